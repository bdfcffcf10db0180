/**
 * Object store on S3 or an S3-compatible server (MinIO, R2, GCS interop, s3rver), through the AWS
 * SDK v3. Calls: PutObject (Buffers up to `multipartThreshold`), lib-storage `Upload` (streams and
 * larger Buffers: multipart in `partSize` parts, aborted on failure so nothing partial is visible),
 * HeadObject (404 → undefined), GetObject (NoSuchKey/404 → undefined), DeleteObject (idempotent),
 * ListObjectsV2 with continuation tokens (tooling only). Metadata travels as `x-amz-meta-*`.
 * Every other failure becomes `BunchError('E_STORAGE')`, retryable unless S3 answered a 4xx other
 * than 408/429. Messages name the bucket, key and S3 error name — never credentials.
 */
import type { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { BunchError } from '../errors/bunch-error.js';
import { redactSecrets } from '../errors/redact-secrets.js';
import { assertStorableKey } from './assert-storable-key.js';
import { createS3Client } from './create-s3-client.js';
import { DEFAULT_CONTENT_TYPE, normalizeMetadata } from './normalize-metadata.js';
import type { ListOptions, ObjectInfo, ObjectStore, PutOptions } from './object-store.js';
import type { S3Settings } from './s3-settings.js';

export interface S3ObjectStoreOptions extends S3Settings {
  bucket: string;
  /** Key prefix inside the bucket, without leading or trailing `/`. */
  prefix?: string;
  /** Multipart part size for streams and large Buffers. Default 8 MiB (S3's minimum is 5 MiB). */
  partSize?: number;
  /** Buffers larger than this go through multipart. Default: `partSize`. */
  multipartThreshold?: number;
  /** Parts uploaded in parallel per object; memory use is about `queueSize × partSize`. Default 4. */
  queueSize?: number;
  /** Page size for ListObjectsV2. Default 1000. */
  listPageSize?: number;
  /** Use this client instead of building one; the store then does not destroy it on close(). */
  client?: S3Client;
}

export interface ResolvedS3ObjectStoreConfig {
  readonly bucket: string;
  readonly prefix: string;
  readonly partSize: number;
  readonly multipartThreshold: number;
  readonly queueSize: number;
  readonly listPageSize: number;
}

const MIB = 1024 * 1024;
const S3_MIN_PART_SIZE = 5 * MIB;

export function resolveS3ObjectStoreOptions(options: S3ObjectStoreOptions): ResolvedS3ObjectStoreConfig {
  if (options.bucket.length === 0 || options.bucket.includes('/')) {
    throw new BunchError('E_CONFIG', `Invalid S3 bucket name ${JSON.stringify(options.bucket)}`);
  }
  const partSize = options.partSize ?? 8 * MIB;
  if (!Number.isInteger(partSize) || partSize < S3_MIN_PART_SIZE) {
    throw new BunchError('E_CONFIG', `S3 partSize must be an integer of at least ${S3_MIN_PART_SIZE} bytes`);
  }
  return Object.freeze({
    bucket: options.bucket,
    prefix: trimSlashes(options.prefix ?? ''),
    partSize,
    multipartThreshold: options.multipartThreshold ?? partSize,
    queueSize: options.queueSize ?? 4,
    listPageSize: options.listPageSize ?? 1000,
  });
}

export class S3ObjectStore implements ObjectStore {
  readonly url: string;
  readonly config: ResolvedS3ObjectStoreConfig;
  private readonly client: S3Client;
  private readonly ownsClient: boolean;
  private readonly knownSecrets: readonly (string | undefined)[];

  constructor(options: S3ObjectStoreOptions) {
    this.config = resolveS3ObjectStoreOptions(options);
    this.client = options.client ?? createS3Client(options);
    this.ownsClient = options.client === undefined;
    this.knownSecrets = [options.credentials?.secretAccessKey, options.credentials?.sessionToken];
    const { bucket, prefix } = this.config;
    this.url = prefix === '' ? `s3://${bucket}` : `s3://${bucket}/${prefix}`;
  }

  uriFor(key: string): string {
    return `s3://${this.config.bucket}/${this.objectKey(key)}`;
  }

  async put(key: string, body: Buffer | string | Readable, options: PutOptions = {}): Promise<void> {
    const params = {
      Bucket: this.config.bucket,
      Key: this.objectKey(key),
      ContentType: options.contentType ?? DEFAULT_CONTENT_TYPE,
      Metadata: normalizeMetadata(options.metadata),
    };
    const data = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    try {
      if (Buffer.isBuffer(data) && data.length <= this.config.multipartThreshold) {
        await this.client.send(new PutObjectCommand({ ...params, Body: data, ContentLength: data.length }));
        return;
      }
      const upload = new Upload({
        client: this.client,
        params: { ...params, Body: data },
        partSize: this.config.partSize,
        queueSize: this.config.queueSize,
        leavePartsOnError: false,
      });
      await upload.done();
    } catch (error) {
      throw this.storageError('put', key, error);
    }
  }

  async get(key: string): Promise<Buffer | undefined> {
    const stream = await this.getStream(key);
    if (stream === undefined) return undefined;
    try {
      const chunks: Buffer[] = [];
      for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array));
      return Buffer.concat(chunks);
    } catch (error) {
      throw this.storageError('get', key, error);
    }
  }

  async getStream(key: string): Promise<Readable | undefined> {
    try {
      const answer = await this.client.send(
        new GetObjectCommand({ Bucket: this.config.bucket, Key: this.objectKey(key) }),
      );
      // In Node the SDK's body is an http.IncomingMessage (a Readable) with SDK mixins.
      return answer.Body as Readable | undefined;
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw this.storageError('get', key, error);
    }
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    try {
      const answer = await this.client.send(
        new HeadObjectCommand({ Bucket: this.config.bucket, Key: this.objectKey(key) }),
      );
      const info: ObjectInfo = { key, size: answer.ContentLength ?? 0, metadata: { ...answer.Metadata } };
      if (answer.ContentType !== undefined) info.contentType = answer.ContentType;
      return info;
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw this.storageError('head', key, error);
    }
  }

  async delete(key: string): Promise<void> {
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.config.bucket, Key: this.objectKey(key) }));
    } catch (error) {
      if (isMissing(error)) return;
      throw this.storageError('delete', key, error);
    }
  }

  async *list(prefix: string, options: ListOptions = {}): AsyncIterable<string> {
    const storePrefix = this.config.prefix === '' ? '' : `${this.config.prefix}/`;
    const skip = (options.skip ?? []).filter((sub) => sub.startsWith(prefix));
    const jumped = new Set<string>();
    let continuationToken: string | undefined;
    let startAfter: string | undefined;
    for (;;) {
      let page;
      try {
        page = await this.client.send(
          new ListObjectsV2Command({
            Bucket: this.config.bucket,
            Prefix: storePrefix + prefix,
            MaxKeys: this.config.listPageSize,
            ...(continuationToken !== undefined ? { ContinuationToken: continuationToken } : {}),
            ...(continuationToken === undefined && startAfter !== undefined ? { StartAfter: storePrefix + startAfter } : {}),
          }),
        );
      } catch (error) {
        throw this.storageError('list', prefix, error);
      }
      let jumpPast: string | undefined;
      for (const entry of page.Contents ?? []) {
        if (entry.Key === undefined || !entry.Key.startsWith(storePrefix)) continue;
        const key = entry.Key.slice(storePrefix.length);
        const skipped = skip.find((sub) => key.startsWith(sub));
        if (skipped === undefined) {
          yield key;
        } else if (!jumped.has(skipped)) {
          jumpPast = skipped;
          break;
        }
      }
      if (jumpPast !== undefined) {
        // S3 lists in key order: start again after the last key the skipped folder can hold
        // (once per folder: a server that ignores StartAfter is paged through instead).
        jumped.add(jumpPast);
        startAfter = `${jumpPast}\u{10FFFF}`;
        continuationToken = undefined;
        continue;
      }
      if (page.IsTruncated !== true || page.NextContinuationToken === undefined) return;
      continuationToken = page.NextContinuationToken;
    }
  }

  async close(): Promise<void> {
    if (this.ownsClient) this.client.destroy();
  }

  private objectKey(key: string): string {
    assertStorableKey(key);
    return this.config.prefix === '' ? key : `${this.config.prefix}/${key}`;
  }

  private storageError(operation: string, key: string, error: unknown): BunchError {
    if (error instanceof BunchError) return error;
    const status = httpStatusOf(error);
    const name = error instanceof Error ? error.name : 'Error';
    const detail = error instanceof Error ? redactSecrets(error.message, this.knownSecrets).slice(0, 200) : '';
    const retryable = status === undefined || status >= 500 || status === 408 || status === 429;
    const statusText = status === undefined ? '' : ` (HTTP ${status})`;
    const message = `S3 ${operation} of ${this.uriForMessage(key)} failed: ${name}${statusText}${detail ? `: ${detail}` : ''}`;
    const options: ConstructorParameters<typeof BunchError>[2] = { cause: error, retryable };
    if (status !== undefined) options.status = status;
    return new BunchError('E_STORAGE', message, options);
  }

  private uriForMessage(key: string): string {
    const full = this.config.prefix === '' ? key : `${this.config.prefix}/${key}`;
    return `s3://${this.config.bucket}/${full}`;
  }
}

function httpStatusOf(error: unknown): number | undefined {
  const status = (error as { $metadata?: { httpStatusCode?: unknown } } | null)?.$metadata?.httpStatusCode;
  return typeof status === 'number' ? status : undefined;
}

function isMissing(error: unknown): boolean {
  const name = (error as { name?: unknown } | null)?.name;
  return name === 'NotFound' || name === 'NoSuchKey' || (httpStatusOf(error) === 404 && name !== 'NoSuchBucket');
}

function trimSlashes(text: string): string {
  return text.replace(/^\/+|\/+$/g, '');
}
