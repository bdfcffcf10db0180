/**
 * Submitting one shard of the batch lane: finding its batch upstream if it exists already
 * (creation is not idempotent upstream, so a deterministic displayName is looked up before every
 * create), and creating it from the shard's stored requests file, with reference images uploaded
 * and their placeholders swapped for Files API URIs.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createWriteStream } from 'node:fs';
import { BunchError } from '../../errors/bunch-error.js';
import { createBatchFromFile, listBatches, type BatchApiClient } from '../../gemini/batch-api.js';
import type { UpstreamBatch } from '../../gemini/upstream-batch.js';
import { runObjectKeys } from '../../runs/run-keys.js';
import type { ObjectStore } from '../../storage/object-store.js';
import { untilClosed } from '../../storage/until-closed.js';
import { withUploadedReferences } from './shard-references.js';
import { displayNameDigest } from './shard-state.js';

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
  for await (const batch of listBatches(client)) {
    if (batch.displayName === displayName) return batch;
    if (digest && !sameContent && displayNameDigest(batch.displayName) === digest && ADOPTABLE_STATES.has(batch.state)) {
      sameContent = batch;
    }
  }
  return sameContent;
}

const ADOPTABLE_STATES = new Set(['PENDING', 'RUNNING', 'SUCCEEDED']);

/**
 * Uploads the shard's requests file (copied from the run's object store to a temp file, reference
 * placeholders swapped for Files API URIs of the uploaded images) and creates the batch. Items
 * whose reference image is missing from storage are left out and told to `onLeftOut` before the
 * batch is created; when that leaves nothing, no batch is created (undefined).
 */
export async function createShardBatch(
  client: BatchApiClient,
  store: ObjectStore,
  options: {
    runId: string;
    shard: string;
    model: string;
    displayName: string;
    tempRoot?: string | undefined;
    /** Runs right before the create call (after every upload); may throw to create nothing. */
    beforeCreate?: (() => Promise<void>) | undefined;
    /** Items left out of the batch (itemKey → why), before it is created. */
    onLeftOut?: ((left: ReadonlyMap<string, string>) => Promise<void>) | undefined;
    /** Items already recorded (by an earlier delivery of this shard): left out of the upload. */
    done?: ReadonlySet<string> | undefined;
  },
): Promise<UpstreamBatch | undefined> {
  const key = runObjectKeys(options.runId).batchRequests(options.shard);
  const source = await store.getStream(key);
  if (!source) throw new BunchError('E_STORAGE', `batch shard ${options.shard} has no requests file (${key})`, { retryable: false });
  const dir = await mkdtemp(path.join(options.tempRoot ?? tmpdir(), 'bunch-upload-'));
  try {
    const copied = path.join(dir, `${options.shard}.stored.jsonl`);
    const out = createWriteStream(copied);
    // Closed before the folder is removed: pipeline settles on the source's error without waiting.
    await pipeline(source, out).catch(async (error: unknown) => {
      await untilClosed(out);
      throw error;
    });
    const uploaded = await withUploadedReferences(client, store, copied, path.join(dir, `${options.shard}.jsonl`), dir, options.done);
    if (uploaded.left.size > 0) await options.onLeftOut?.(uploaded.left);
    if (uploaded.lines === 0) return undefined;
    return await createBatchFromFile(client, uploaded.file, { model: options.model, displayName: options.displayName, beforeCreate: options.beforeCreate });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
