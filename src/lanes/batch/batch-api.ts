/**
 * The Batch API calls the batch lane makes, over the bunch Gemini REST client:
 *   GET  /v1beta/batches?pageSize=&pageToken=             → {operations[], nextPageToken}
 *   POST /upload/v1beta/files (resumable)                  → {file:{name:"files/<id>"}}
 *   POST /v1beta/models/{model}:batchGenerateContent       {batch:{displayName, inputConfig:{fileName}}} → Operation
 *   GET  /v1beta/batches/{id}                              → Operation
 *   POST /v1beta/batches/{id}:cancel                       {} → {}
 * Creation is NOT idempotent upstream; the caller makes it so with a deterministic displayName
 * looked up (findBatchByDisplayName) before every create. Errors are BunchErrors from the client
 * (429 → E_RATE_LIMITED with retryAfterMs, 5xx → E_UPSTREAM, resets → E_NETWORK, ...).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createWriteStream } from 'node:fs';
import { BunchError } from '../../errors/bunch-error.js';
import type { GeminiClient } from '../../gemini/gemini-client.js';
import { runObjectKeys } from '../../runs/run-keys.js';
import type { ObjectStore } from '../../storage/object-store.js';
import { withUploadedReferences } from './shard-references.js';
import { displayNameDigest } from './shard-state.js';
import { readUpstreamBatch, type UpstreamBatch } from './upstream-batch.js';

export type BatchApiClient = Pick<GeminiClient, 'request' | 'download' | 'uploadResumable'> & Partial<Pick<GeminiClient, 'config'>>;

const CALL_TIMEOUT_MS = 60_000;
const UPLOAD_TIMEOUT_MS = 10 * 60_000;

/**
 * Looks upstream for this shard's batch: first one with exactly this displayName (this run
 * created it; a crash between create and record lands here), else — when `digest` is given — a
 * batch of an earlier run with the same content that is still pending, running or succeeded
 * (that run lost its Redis state before collecting; its results are paid for and are adopted
 * instead of paying again). Failed, expired and cancelled batches are never adopted.
 */
export async function findBatchByDisplayName(
  client: BatchApiClient,
  displayName: string,
  digest?: string,
): Promise<UpstreamBatch | undefined> {
  let sameContent: UpstreamBatch | undefined;
  let pageToken: string | undefined;
  do {
    const page = await client.request<{ operations?: unknown[]; nextPageToken?: string } | undefined>('GET', 'batches', {
      query: { pageSize: 100, pageToken },
      timeoutMs: CALL_TIMEOUT_MS,
    });
    for (const operation of page?.operations ?? []) {
      const batch = readUpstreamBatch(operation);
      if (batch.displayName === displayName) return batch;
      if (digest && !sameContent && displayNameDigest(batch.displayName) === digest && ADOPTABLE_STATES.has(batch.state)) {
        sameContent = batch;
      }
    }
    pageToken = page?.nextPageToken || undefined;
  } while (pageToken);
  return sameContent;
}

const ADOPTABLE_STATES = new Set(['PENDING', 'RUNNING', 'SUCCEEDED']);

export async function getBatch(client: BatchApiClient, name: string): Promise<UpstreamBatch> {
  return readUpstreamBatch(await client.request<unknown>('GET', name, { timeoutMs: CALL_TIMEOUT_MS }));
}

export async function cancelBatch(client: BatchApiClient, name: string): Promise<void> {
  await client.request<unknown>('POST', `${name}:cancel`, { body: {}, timeoutMs: CALL_TIMEOUT_MS });
}

/**
 * Uploads the shard's requests file (copied from the run's object store to a temp file, reference
 * placeholders swapped for Files API URIs of the uploaded images) and creates the batch.
 */
export async function createShardBatch(
  client: BatchApiClient,
  store: ObjectStore,
  options: { runId: string; shard: string; model: string; displayName: string; tempRoot?: string | undefined },
): Promise<UpstreamBatch> {
  const key = runObjectKeys(options.runId).batchRequests(options.shard);
  const source = await store.getStream(key);
  if (!source) throw new BunchError('E_STORAGE', `batch shard ${options.shard} has no requests file (${key})`, { retryable: false });
  const dir = await mkdtemp(path.join(options.tempRoot ?? tmpdir(), 'bunch-upload-'));
  try {
    const copied = path.join(dir, `${options.shard}.stored.jsonl`);
    await pipeline(source, createWriteStream(copied));
    const file = await withUploadedReferences(client, store, copied, path.join(dir, `${options.shard}.jsonl`), dir);
    const uploaded = await client.uploadResumable(file, {
      mimeType: 'application/jsonl',
      displayName: options.displayName,
      timeoutMs: UPLOAD_TIMEOUT_MS,
    });
    const operation = await client.request<unknown>('POST', `models/${options.model}:batchGenerateContent`, {
      body: { batch: { displayName: options.displayName, inputConfig: { fileName: uploaded.name } } },
      timeoutMs: CALL_TIMEOUT_MS,
    });
    return readUpstreamBatch(operation);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
