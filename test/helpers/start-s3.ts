import { createCipheriv } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import { createS3Client } from '../../src/storage/create-s3-client.js';
import type { ObjectStore } from '../../src/storage/object-store.js';
import { S3ObjectStore, type S3ObjectStoreOptions } from '../../src/storage/s3-object-store.js';
import type { S3Settings } from '../../src/storage/s3-settings.js';
import { tempDir } from './temp-dir.js';

export interface S3Handle {
  /** e.g. `http://127.0.0.1:41234` */
  endpoint: string;
  bucket: string;
  /** Settings that reach this server (endpoint, path style, s3rver's fixed credentials). */
  settings: S3Settings;
  /** A client with `settings`, for tests that look at S3 directly. Destroyed by stop(). */
  client: S3Client;
  /** A store on this server's bucket under `prefix`; use a distinct prefix per test. */
  store(prefix: string, overrides?: Partial<S3ObjectStoreOptions>): ObjectStore;
  stop(): Promise<void>;
}

const BUCKET = 'bunch-test';
// s3rver accepts exactly these; they are public test values, not secrets.
const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

/**
 * An s3rver (in-process, 127.0.0.1, random port, own temp directory) with one bucket.
 * Paged ListObjectsV2 needs the OpenSSL legacy provider in this process (see
 * `openSslLegacyProviderLoaded`); everything else works without it.
 */
export async function startS3(): Promise<S3Handle> {
  const dir = await tempDir('s3');
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory: dir.path,
    configureBuckets: [{ name: BUCKET, configs: [] }],
  });
  let address: AddressInfo;
  try {
    address = await server.run();
  } catch (error) {
    await dir.remove();
    throw error;
  }
  const endpoint = `http://127.0.0.1:${address.port}`;
  const settings: S3Settings = {
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    checksumMode: 'when_required',
    credentials: S3RVER_CREDENTIALS,
  };
  const client = createS3Client(settings);
  const stores: ObjectStore[] = [];
  return {
    endpoint,
    bucket: BUCKET,
    settings,
    client,
    store(prefix, overrides = {}) {
      const store = new S3ObjectStore({ ...settings, bucket: BUCKET, prefix, ...overrides });
      stores.push(store);
      return store;
    },
    async stop() {
      await Promise.all(stores.map((store) => store.close()));
      client.destroy();
      await server.close();
      await dir.remove();
    },
  };
}

/**
 * s3rver encrypts ListObjectsV2 continuation tokens with DES, which OpenSSL 3 only offers through
 * its legacy provider: node must start with `--openssl-legacy-provider` (vitest: `test.execArgv`).
 */
export function openSslLegacyProviderLoaded(): boolean {
  try {
    createCipheriv('des', Buffer.alloc(8), Buffer.alloc(8));
    return true;
  } catch {
    return false;
  }
}
