import type { Job, Queue } from 'bullmq';
import type { GenerateJobData } from '../lanes/sync/generate-job-data.js';
import { TERMINAL_RUN_STATUSES } from '../runs/run-config.js';
import type { RunStore } from '../runs/run-store.js';

/** Failed jobs looked at in one sweep, newest first (the failed set keeps a week of them). */
export const SWEEP_MAX_JOBS = 2000;
/**
 * A job failed less than this long ago is left to the `failed` event of the process that failed
 * it, which knows the error's code; a sweep that came first would record a plainer E_INTERNAL.
 */
export const SWEEP_GRACE_MS = 30_000;
const PAGE = 200;

export interface SweepOptions {
  maxJobs?: number;
  graceMs?: number;
  now?: () => number;
}

/**
 * A generate job BullMQ failed for good is recorded from the `failed` event of the process that
 * failed it (start-workers.ts). If that process died in between — killed right after BullMQ moved
 * the job to the failed set — nobody records the item, and its run stays one item short of
 * complete forever. The sweep goes through the failed set, newest first, for jobs of runs still
 * going whose item has no record, and hands each to `record` (the same recording as the event's:
 * the first record of an item wins, so one racing another is harmless). Runs already finalized
 * or gone are not looked at again. Returns how many jobs it handed over.
 */
export async function sweepGivenUpJobs(
  queue: Queue<GenerateJobData>,
  runs: RunStore,
  record: (job: Job<GenerateJobData>) => Promise<void>,
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
    const jobs = await queue.getFailed(start, Math.min(start + PAGE, maxJobs) - 1);
    for (const job of jobs) {
      // A job removed between the listing and its read comes back empty.
      if (!job?.data?.runId) continue;
      if ((job.finishedOn ?? 0) > settledBefore) continue;
      if (!(await isGoing(job.data.runId))) continue;
      if (await runs.records.isTerminal(job.data.runId, job.data.index)) continue;
      await record(job);
      handed += 1;
    }
    if (jobs.length < PAGE) break;
  }
  return handed;
}
