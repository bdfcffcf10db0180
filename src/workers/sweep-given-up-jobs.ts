import type { Job, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { TERMINAL_RUN_STATUSES } from '../runs/run-config.js';
import type { RunStore } from '../runs/run-store.js';

/**
 * Failed jobs of runs still going read in one sweep of a queue, newest first. Jobs of finished or
 * gone runs are passed over by id, unread, and do not count: failed sets keep a week or a month of
 * them, and one big burst of failures must not hide an older job nobody handled.
 */
export const SWEEP_MAX_JOBS = 2000;
/**
 * A job failed less than this long ago is left to the `failed` event of the process that failed
 * it, which knows the error itself; a sweep that came first would report it more plainly.
 */
export const SWEEP_GRACE_MS = 30_000;
/** The same for batch shards, whose handler first cancels the batch upstream (a call of up to 60 s). */
export const SHARD_SWEEP_GRACE_MS = 5 * 60_000;
/** Job ids listed per round trip. */
const PAGE = 1000;
/**
 * How long one fleet process may hold the sweep to itself: far more than a pass takes (two queues,
 * at most SWEEP_MAX_JOBS jobs each); a process that dies mid-pass holds it no longer than this.
 */
export const SWEEP_LOCK_MS = 5 * 60_000;

export interface SweepOptions {
  maxJobs?: number;
  graceMs?: number;
  now?: () => number;
  /** Told of a job whose handling failed; the sweep goes on with the next (one bad job never blocks the rest). */
  onJobError?: (job: Job, error: unknown) => void;
  /** Aborted when the fleet closes: the pass ends after the job in hand. */
  signal?: AbortSignal;
}

/** What a queue's `failed` handler does for a job failed for good, as a sweep can ask and redo it. */
export interface GivenUpHandling<Data extends { runId: string }> {
  /** Whether the job still waits for it (a sync item with no record, a batch shard not salvaged). */
  unhandled(job: Job<Data>): Promise<boolean>;
  /** Does it (the handler's own code; a sync item's first record wins). */
  handle(job: Job<Data>): Promise<void>;
}

/**
 * The run a job id names: bunch's generate and shard job ids start with `<runId>.` (run ids hold no
 * dot: run-id.ts). Undefined for any other id, whose job is then read to find its run.
 */
export function runIdOfJobId(id: string): string | undefined {
  const dot = id.indexOf('.');
  return dot > 0 ? id.slice(0, dot) : undefined;
}

/**
 * A job BullMQ failed for good is handled from the `failed` event of the process that failed it
 * (start-workers.ts: a sync item is recorded, a batch shard salvaged). If that process died in
 * between — killed right after BullMQ moved the job to the failed set — nobody does it, and the
 * run stays short of complete forever. A sweep goes through the queue's failed set, newest first,
 * for jobs failed more than the grace ago, of runs still going, that wait for it, and hands each
 * to `handling`. Runs finalized or
 * gone are not looked at again. Returns how many jobs it handed over.
 */
export async function sweepGivenUpJobs<Data extends { runId: string }>(
  queue: Queue<Data>,
  /** A connection to the queue's Redis (the failed set's ids are listed on it). */
  redis: Redis,
  runs: RunStore,
  handling: GivenUpHandling<Data>,
  options: SweepOptions = {},
): Promise<number> {
  const maxJobs = options.maxJobs ?? SWEEP_MAX_JOBS;
  const settledBefore = (options.now ?? Date.now)() - (options.graceMs ?? SWEEP_GRACE_MS);
  const going = new Map<string, boolean>();
  const isGoing = async (runId: string): Promise<boolean> => {
    let answer = going.get(runId);
    if (answer === undefined) {
      const { status } = await runs.getControl(runId);
      // A finalizing run has every item recorded already; a run without status is gone.
      answer = status !== undefined && status !== 'finalizing' && !TERMINAL_RUN_STATUSES.includes(status);
      going.set(runId, answer);
    }
    return answer;
  };
  // The failed set is scored by when each job failed: listing only those older than the grace
  // keeps the pages steady while new failures arrive, and lets the grace be the failing worker's
  // own `finishedOn` rather than a read of each job.
  let handed = 0;
  let read = 0;
  for (let offset = 0; read < maxJobs; offset += PAGE) {
    const ids = await redis.zrevrangebyscore(queue.keys.failed as string, settledBefore, '-inf', 'LIMIT', offset, PAGE);
    for (const id of ids) {
      if (options.signal?.aborted) return handed;
      const listedRun = runIdOfJobId(id);
      if (listedRun && !(await isGoing(listedRun))) continue;
      if (read >= maxJobs) break;
      read += 1;
      const job: Job<Data> | undefined = await queue.getJob(id);
      // A job removed between the listing and its read comes back empty.
      const runId = job?.data?.runId;
      if (!job || !runId) continue;
      if (runId !== listedRun && !(await isGoing(runId))) continue;
      if (!(await handling.unhandled(job))) continue;
      try {
        await handling.handle(job);
        handed += 1;
      } catch (error) {
        options.onJobError?.(job, error);
      }
    }
    if (ids.length < PAGE) break;
  }
  return handed;
}
