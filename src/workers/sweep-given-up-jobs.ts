import type { Job, Queue } from 'bullmq';
import { TERMINAL_RUN_STATUSES } from '../runs/run-config.js';
import type { RunStore } from '../runs/run-store.js';

/** Failed jobs looked at in one sweep of a queue, newest first (failed sets keep a week or a month of them). */
export const SWEEP_MAX_JOBS = 2000;
/**
 * A job failed less than this long ago is left to the `failed` event of the process that failed
 * it, which knows the error itself; a sweep that came first would report it more plainly.
 */
export const SWEEP_GRACE_MS = 30_000;
/** The same for batch shards, whose handler first cancels the batch upstream (a call of up to 60 s). */
export const SHARD_SWEEP_GRACE_MS = 5 * 60_000;
const PAGE = 200;
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
}

/** What a queue's `failed` handler does for a job failed for good, as a sweep can ask and redo it. */
export interface GivenUpHandling<Data extends { runId: string }> {
  /** Whether the job still waits for it (a sync item with no record, a batch shard not salvaged). */
  unhandled(job: Job<Data>): Promise<boolean>;
  /** Does it (the handler's own code; a sync item's first record wins). */
  handle(job: Job<Data>): Promise<void>;
}

/**
 * A job BullMQ failed for good is handled from the `failed` event of the process that failed it
 * (start-workers.ts: a sync item is recorded, a batch shard salvaged). If that process died in
 * between — killed right after BullMQ moved the job to the failed set — nobody does it, and the
 * run stays short of complete forever. A sweep goes through the queue's failed set, newest first,
 * for jobs of runs still going that wait for it, and hands each to `handling`. Runs finalized or
 * gone are not looked at again. Returns how many jobs it handed over.
 */
export async function sweepGivenUpJobs<Data extends { runId: string }>(
  queue: Queue<Data>,
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
  let handed = 0;
  for (let start = 0; start < maxJobs; start += PAGE) {
    const jobs: (Job<Data> | undefined)[] = await queue.getFailed(start, Math.min(start + PAGE, maxJobs) - 1);
    for (const job of jobs) {
      // A job removed between the listing and its read comes back empty.
      const runId = job?.data?.runId;
      if (!job || !runId) continue;
      if ((job.finishedOn ?? 0) > settledBefore) continue;
      if (!(await isGoing(runId))) continue;
      if (!(await handling.unhandled(job))) continue;
      try {
        await handling.handle(job);
        handed += 1;
      } catch (error) {
        options.onJobError?.(job, error);
      }
    }
    if (jobs.length < PAGE) break;
  }
  return handed;
}
