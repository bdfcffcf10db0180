/**
 * Sync items whose generate job BullMQ failed for good (attempts used up by an unexpected crash of
 * the processor, or a job that stalled more often than allowed). The processor records every
 * failure it understands and completes its job, so what reaches the failed set is what it could
 * not record: recorded here, through the same path as any item (the first record wins), and its
 * `from:` dependants released — they can no longer be made from it and end E_DEPENDENCY, no call.
 */
import type { Job, Queue } from 'bullmq';
import type { Logger } from 'pino';
import type { ErrorCode } from '../errors/error-code.js';
import { redactSecrets } from '../errors/redact-secrets.js';
import { recordItem } from '../lanes/record-item.js';
import type { RunContextCache } from '../lanes/run-context-cache.js';
import { failedRecord } from '../lanes/sync/failed-record.js';
import type { GenerateJobData } from '../lanes/sync/generate-job-data.js';
import { releaseOf, SYNC_RELEASE_OWNER } from '../lanes/sync/generate-processor.js';
import { heldForItem } from '../lanes/sync/held-claim.js';
import type { RunStore } from '../runs/run-store.js';
import type { GivenUpHandling } from './sweep-given-up-jobs.js';

export interface GivenUpItemDeps {
  runs: RunStore;
  contexts: RunContextCache;
  generateQueue: Queue<GenerateJobData>;
  onRunComplete(runId: string): Promise<void>;
  logger: Logger;
  /** Kept out of every message recorded. */
  apiKey: string;
}

export interface GivenUpItems {
  /** From the `failed` event of the worker that failed the job: records it unless someone has. */
  record(job: Job<GenerateJobData>, code: ErrorCode, reason: string): Promise<void>;
  /** For the sweep of the failed set: jobs whose item has no record, or whose dependants wait. */
  sweep: GivenUpHandling<GenerateJobData>;
}

export function givenUpItems(deps: GivenUpItemDeps): GivenUpItems {
  const { runs } = deps;

  /**
   * A delivery of this item may still be at work after BullMQ gave up on its job: one past its
   * deadline gives its slot back (the job fails when that was its last attempt) and goes on with
   * the call, holding the item's output claim. It records the item itself — with the paid output
   * it stores — or, should its process die, its claim lapses within a TTL and a later sweep
   * records the item failed. Recording it failed now would turn a paid, stored output away.
   */
  const stillAtWork = async (data: GenerateJobData): Promise<boolean> => {
    const { store } = await deps.contexts.get(data.runId);
    const holder = await runs.claims.holder({ markerUri: store.uriFor(data.markerKey), inputHash: data.inputHash });
    return holder !== undefined && heldForItem(holder, data.runId, data.index);
  };

  const record = async (job: Job<GenerateJobData>, code: ErrorCode, reason: string): Promise<void> => {
    if ((await job.getState()) !== 'failed' || (await runs.records.isTerminal(job.data.runId, job.data.index))) return;
    if (await stillAtWork(job.data)) {
      deps.logger.info({ runId: job.data.runId, item: job.data.itemKey }, 'a delivery of this item is still at work: it records the item (or a later sweep does)');
      return;
    }
    const { store } = await deps.contexts.get(job.data.runId);
    const message = redactSecrets(reason, [deps.apiKey]).slice(0, 300);
    const entry = failedRecord(job.data, { code, message }, job.attemptsStarted);
    const outcome = await recordItem(runs, store, job.data.runId, entry, deps.onRunComplete);
    // Released only by the record that counted: another record's maker releases on its own.
    if (outcome.recorded && job.data.dependants?.length) await releaseOf(deps, job.data);
  };

  /**
   * A process that died between an item's record and the end of its dependants' release leaves
   * them waiting for good. They are this job's to release while no other owner (a batch shard)
   * claimed them and no release finished (once it has, they are recorded or queued, and a release
   * again would only repeat the storage reads); releasing is safe to repeat for the same owner
   * (records first-wins, job ids fixed).
   */
  const dependantsWait = async (data: GenerateJobData): Promise<boolean> => {
    if (!data.dependants?.length) return false;
    const { owner, finished } = await runs.releaseState(data.runId, data.index);
    if (finished || (owner !== undefined && owner !== SYNC_RELEASE_OWNER)) return false;
    for (const dependant of data.dependants) {
      if (!(await runs.records.isTerminal(data.runId, dependant.target.index))) return true;
    }
    return false;
  };

  const sweep: GivenUpHandling<GenerateJobData> = {
    unhandled: async (job) =>
      (!(await runs.records.isTerminal(job.data.runId, job.data.index)) && !(await stillAtWork(job.data))) || (await dependantsWait(job.data)),
    handle: async (job) => {
      if (!(await runs.records.isTerminal(job.data.runId, job.data.index))) {
        await record(job, 'E_INTERNAL', `BullMQ failed this job and no record was made: ${job.failedReason ?? 'no reason given'}`);
      } else {
        await releaseOf(deps, job.data);
      }
    },
  };

  return { record, sweep };
}
