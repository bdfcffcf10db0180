/**
 * Reference images for the batch lane go through the Files API once, not once per line:
 *   POST /upload/v1beta/files (resumable) → {file: {name: "files/<id>", uri, expirationTime}}
 * A shard's lines then name them as `fileData: {mimeType, fileUri}`. Uploaded files expire 48 h
 * after upload; each upload is remembered in the output store beside the reference
 * (`_bunch/refs/<sha256>.upload.json`, no secrets: name, uri, expiry, API base URL) and reused by
 * later shards and runs while it has at least `minRemainingMs` to live and the Files API still
 * has it (one GET per image and shard), then uploaded again.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { BunchError } from '../errors/bunch-error.js';
import type { GeminiClient } from '../gemini/gemini-client.js';
import type { GeminiFile, UploadOptions } from '../gemini/upload-resumable.js';
import type { ObjectStore } from '../storage/object-store.js';
import { referenceObjectKey, referenceUploadKey } from './reference-object-key.js';

export interface ReferenceUploader {
  uploadResumable(filePath: string, options: UploadOptions): Promise<GeminiFile>;
  request: GeminiClient['request'];
}

interface UploadRecord {
  name: string;
  uri: string;
  mimeType: string;
  expiresAt: string;
  /** Uploads belong to the API project they were made with; another endpoint means upload again. */
  baseUrl: string;
}

/** Files live 48 h upstream; a batch may run 24 h after submission. */
const FILE_LIFETIME_MS = 48 * 3_600_000;
export const DEFAULT_MIN_REMAINING_MS = 25 * 3_600_000;

export interface UploadReferencesOptions {
  /** A private temp directory (the upload reads from a file). */
  dir: string;
  baseUrl: string;
  now?: () => number;
  minRemainingMs?: number;
  timeoutMs?: number;
  /**
   * Where images missing from storage are told (sha256 → why) instead of failing the whole call:
   * a batch shard then leaves out only the lines that name them.
   */
  missing?: Map<string, string>;
}

/** sha256 → the Files API URI (and type) to put in `fileData`. */
export async function uploadReferences(
  client: ReferenceUploader,
  store: ObjectStore,
  shas: Iterable<string>,
  options: UploadReferencesOptions,
): Promise<Map<string, { uri: string; mimeType: string }>> {
  const now = options.now ?? Date.now;
  const minRemaining = options.minRemainingMs ?? DEFAULT_MIN_REMAINING_MS;
  const result = new Map<string, { uri: string; mimeType: string }>();
  for (const sha256 of shas) {
    const known = await readRecord(store, sha256);
    if (known && known.baseUrl === options.baseUrl && Date.parse(known.expiresAt) - now() >= minRemaining && (await stillUpstream(client, known))) {
      result.set(sha256, { uri: known.uri, mimeType: known.mimeType });
      continue;
    }
    const key = referenceObjectKey(sha256);
    const [bytes, info] = await Promise.all([store.get(key), store.head(key)]);
    if (!bytes) {
      const why = `reference image ${key} is missing from storage`;
      if (!options.missing) throw new BunchError('E_REFERENCE', why, { reason: 'not-found' });
      options.missing.set(sha256, why);
      continue;
    }
    const mimeType = info?.contentType ?? 'application/octet-stream';
    const file = path.join(options.dir, `ref-${sha256}`);
    await writeFile(file, bytes);
    const uploaded = await client.uploadResumable(file, {
      mimeType,
      displayName: `bunch-ref-${sha256.slice(0, 16)}`,
      ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    });
    const uri = uploaded.uri ?? uploaded.name;
    const expiration = typeof uploaded['expirationTime'] === 'string' ? Date.parse(uploaded['expirationTime']) : NaN;
    const record: UploadRecord = {
      name: uploaded.name,
      uri,
      mimeType,
      expiresAt: new Date(Number.isFinite(expiration) ? expiration : now() + FILE_LIFETIME_MS).toISOString(),
      baseUrl: options.baseUrl,
    };
    await store.put(referenceUploadKey(sha256), JSON.stringify(record), { contentType: 'application/json' });
    result.set(sha256, { uri, mimeType });
  }
  return result;
}

/**
 * Whether a remembered upload is still there: files are deleted by clean-ups, and a key of another
 * project on the same endpoint cannot read them (404, or 403 "permission to access the File").
 * Before, a gone file was named in every line of every shard, and each item failed E_REFERENCE
 * until the record's expiry. Other failures (5xx, resets) are the shard step's to retry.
 */
async function stillUpstream(client: ReferenceUploader, known: UploadRecord): Promise<boolean> {
  try {
    await client.request<unknown>('GET', known.name, { timeoutMs: FILES_GET_TIMEOUT_MS });
    return true;
  } catch (error) {
    if (error instanceof BunchError && (error.code === 'E_NOT_FOUND' || error.status === 403 || error.status === 404)) return false;
    throw error;
  }
}

const FILES_GET_TIMEOUT_MS = 60_000;

async function readRecord(store: ObjectStore, sha256: string): Promise<UploadRecord | undefined> {
  const body = await store.get(referenceUploadKey(sha256));
  if (!body) return undefined;
  try {
    const record = JSON.parse(body.toString('utf8')) as Partial<UploadRecord>;
    if (typeof record.name === 'string' && typeof record.uri === 'string' && typeof record.expiresAt === 'string' && typeof record.mimeType === 'string') return record as UploadRecord;
  } catch {
    // A damaged record only costs one more upload.
  }
  return undefined;
}
