import type { Queue } from 'bullmq';
import type { Logger } from 'pino';
import type { ErrorCode } from '../../errors/error-code.js';
import { baseRecord } from '../../outputs/store-item-output.js';
import type { ItemStatus } from '../../runs/item-record.js';
import type { RunConfig } from '../../runs/run-config.js';
import type { RunStore, StopReason } from '../../runs/run-store.js';
import type { ObjectStore } from '../../storage/object-store.js';
import { enqueueGenerateJobs, type SyncWork } from '../enqueue-generate-jobs.js';
import { recordItem } from '../record-item.js';
import type { GenerateJobData } from '../sync/generate-job-data.js';
import type { BatchJobData } from './batch-queue.js';
import { writeFollowUpShards } from './follow-up-shards.js';
import { isSpillable, type UnfinishedItem } from './collect-results.js';
import { loadShardDependants, readShardRequests } from './shard-items.js';
import type { BatchShardState } from './shard-state.js';

/** A shard's unfinished items are resubmitted in a new batch at most this many times, then failed. */
export const MAX_BATCH_RESUBMISSIONS = 2;

const ENQUEUE_CHUNK = 250;

export interface SalvageDeps {
  runs: RunStore;
  store: ObjectStore;
  config: RunConfig;
  generateQueue: Queue<GenerateJobData>;
  batchQueue: Queue<BatchJobData>;
  logger: Logger;
  onRunComplete(runId: string): Promise<void>;
  tempRoot?: string;
}

export interface SalvageContext {
  /** The run was told to stop: unfinished items are recorded cancelled, not moved on. */
  stop?: StopReason | undefined;
  /** The batch was cut short by the run's deadline: another batch would be late too. */
  pastDeadline?: boolean;
}

export interface SalvageOutcome {
  spilled: number;
  resubmitted: number;
  failed: number;
  cancelled: number;
}

/**
 * Moves a shard's unfinished items on (errored, never served, or cut off by the deadline), per the
 * job's `batch.onUnfinished`:
 *  - `sync`: enqueued as ordinary sync-lane generate jobs (same job data planning builds);
 *  - `batch`: written to a new shard `<shard>-r<n>` and submitted again, at most
 *    MAX_BATCH_RESUBMISSIONS times (then failed); past the deadline they go to sync instead;
 *  - `fail`: recorded failed with the upstream code.
 * Errors a retry cannot fix (bad request, auth) are recorded failed whatever the policy.
 * Safe to repeat: items already terminal are left alone, job ids and shard names are deterministic.
 */
export async function salvageItems(
  shard: BatchShardState,
  items: readonly UnfinishedItem[],
  deps: SalvageDeps,
  context: SalvageContext = {},
): Promise<SalvageOutcome> {
  const { runs, store, config } = deps;
  const runId = config.runId;
  const outcome: SalvageOutcome = { spilled: 0, resubmitted: 0, failed: 0, cancelled: 0 };
  const record = async (item: UnfinishedItem, status: ItemStatus, code: ErrorCode, message: string) => {
    const entry = baseRecord(item.target, 'batch', status, new Date().toISOString());
    entry.errorCode = code;
    entry.errorMessage = message;
    await recordItem(runs, store, runId, entry, deps.onRunComplete);
  };

  let policy: 'sync' | 'batch' | 'fail' = config.batch.onUnfinished;
  if (policy === 'batch' && context.pastDeadline) policy = 'sync';
  if (policy === 'batch' && shard.generation >= MAX_BATCH_RESUBMISSIONS) policy = 'fail';

  const moveOn: UnfinishedItem[] = [];
  for (const item of items) {
    if (await runs.records.isTerminal(runId, item.target.index)) continue;
    if (context.stop) {
      await record(item, 'cancelled', context.stop, `the run was stopped (${context.stop}) before its batch served this item`);
      outcome.cancelled += 1;
    } else if (!isSpillable(item.code) || policy === 'fail') {
      await record(item, 'failed', item.code, item.message);
      outcome.failed += 1;
    } else {
      moveOn.push(item);
    }
  }
  if (moveOn.length === 0) return outcome;

  const byKey = new Map(moveOn.map((item) => [item.target.itemKey, item]));
  const requests = readShardRequests(store, runId, shard.shard, new Set(byKey.keys()));
  // Variants made from an item that moves on travel with it, to be released when it is done.
  const dependantsOf = await loadShardDependants(store, runId, shard.shard);
  const withDependants = (key: string) => {
    const dependants = dependantsOf.get(key)?.dependants;
    return dependants?.length ? { dependants } : {};
  };
  if (policy === 'sync') {
    let chunk: SyncWork[] = [];
    for await (const { key, request } of requests) {
      const item = byKey.get(key);
      if (item) chunk.push({ target: item.target, request, ...withDependants(key) });
      if (chunk.length >= ENQUEUE_CHUNK) {
        outcome.spilled += await enqueueGenerateJobs(deps.generateQueue, config, chunk);
        chunk = [];
      }
    }
    outcome.spilled += await enqueueGenerateJobs(deps.generateQueue, config, chunk);
  } else {
    const generation = shard.generation + 1;
    const base = shard.shard.replace(/-r\d+(?:-\d+)?$/, '');
    async function* resubmitted(): AsyncGenerator<SyncWork> {
      for await (const { key, request } of requests) {
        const item = byKey.get(key);
        if (item) yield { target: item.target, request, ...withDependants(key) };
      }
    }
    outcome.resubmitted = await writeFollowUpShards(deps, { root: `${base}-r${generation}`, generation }, resubmitted());
  }
  deps.logger.info({ runId, shard: shard.shard, policy, ...outcome }, 'batch items moved on');
  return outcome;
}
