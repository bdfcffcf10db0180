/**
 * The Batch API calls, over the bunch Gemini REST client:
 *   GET  /v1beta/batches?pageSize=&pageToken=             → {operations[], nextPageToken}
 *   POST /upload/v1beta/files (resumable)                  → {file:{name:"files/<id>"}}
 *   POST /v1beta/models/{model}:batchGenerateContent       {batch:{displayName, inputConfig:{fileName}}} → Operation
 *   GET  /v1beta/batches/{id}                              → Operation
 *   POST /v1beta/batches/{id}:cancel                       {} → {}
 * Creation is NOT idempotent upstream; callers make it so with a deterministic displayName looked
 * up before every create (lanes/batch/submit-shard.ts). Errors are BunchErrors from the client
 * (429 → E_RATE_LIMITED with retryAfterMs, 5xx → E_UPSTREAM, resets → E_NETWORK, 404 → E_NOT_FOUND,
 * ...). A 404 on create stays E_NOT_FOUND: it may name the model or the input file, and the model
 * was already checked by the run's preflight (lanes/preflight-model.ts).
 */
import type { GeminiClient } from './gemini-client.js';
import { readUpstreamBatch, type UpstreamBatch } from './upstream-batch.js';

export type BatchApiClient = Pick<GeminiClient, 'request' | 'download' | 'uploadResumable'> & Partial<Pick<GeminiClient, 'config'>>;

const CALL_TIMEOUT_MS = 60_000;
const UPLOAD_TIMEOUT_MS = 10 * 60_000;

/** Every batch of the project, page by page. */
export async function* listBatches(client: BatchApiClient): AsyncGenerator<UpstreamBatch> {
  let pageToken: string | undefined;
  do {
    const page = await client.request<{ operations?: unknown[]; nextPageToken?: string } | undefined>('GET', 'batches', {
      query: { pageSize: 100, pageToken },
      timeoutMs: CALL_TIMEOUT_MS,
    });
    for (const operation of page?.operations ?? []) yield readUpstreamBatch(operation);
    pageToken = page?.nextPageToken || undefined;
  } while (pageToken);
}

export async function getBatch(client: BatchApiClient, name: string): Promise<UpstreamBatch> {
  return readUpstreamBatch(await client.request<unknown>('GET', name, { timeoutMs: CALL_TIMEOUT_MS }));
}

export async function cancelBatch(client: BatchApiClient, name: string): Promise<void> {
  await client.request<unknown>('POST', `${name}:cancel`, { body: {}, timeoutMs: CALL_TIMEOUT_MS });
}

/**
 * Uploads a JSONL requests file through the Files API and creates a batch over it. `beforeCreate`
 * runs between the upload and the create call, and may throw to create nothing (the caller's
 * right to create may have lapsed during a long upload).
 */
export async function createBatchFromFile(
  client: BatchApiClient,
  file: string,
  options: { model: string; displayName: string; beforeCreate?: (() => Promise<void>) | undefined },
): Promise<UpstreamBatch> {
  const uploaded = await client.uploadResumable(file, { mimeType: 'application/jsonl', displayName: options.displayName, timeoutMs: UPLOAD_TIMEOUT_MS });
  await options.beforeCreate?.();
  const operation = await client.request<unknown>('POST', `models/${options.model}:batchGenerateContent`, {
    body: { batch: { displayName: options.displayName, inputConfig: { fileName: uploaded.name } } },
    timeoutMs: CALL_TIMEOUT_MS,
  });
  return readUpstreamBatch(operation);
}
