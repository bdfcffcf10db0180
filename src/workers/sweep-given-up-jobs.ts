import type { Job, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { TERMINAL_RUN_STATUSES } from '../runs/run-config.js';
import type { RunStore } from '../runs/run-store.js';
import { NO_SWEEP_PLACE, placeForPass, type SweepPlaceStore, type SweepRange } from './sweep-place.js';

/**
 * Failed jobs of runs still going read in one pass over a queue. A pass that reaches this (or
 * SWEEP_MAX_LISTED ids) stops where it is, and the next pass goes on from there (sweep-place.ts):
 * every failed job is looked at within a bounded number of passes, however many are newer.
 */
export const SWEEP_MAX_JOBS = 2000;
/**
 * Ids listed in one pass. Jobs of finished or gone runs are passed over by id, unread; failed sets
 * keep a week or a month of them, so a pass lists a bounded share and the next goes on.
 */
export const SWEEP_MAX_LISTED = 50_000;
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
 * at most SWEEP_MAX_LISTED ids listed and SWEEP_MAX_JOBS jobs read each); a process that dies
 * mid-pass holds it no longer than this.
 */
export const SWEEP_LOCK_MS = 5 * 60_000;

export interface SweepOptions {
  maxJobs?: number;
  maxListed?: number;
  pageSize?: number;
  graceMs?: number;
  now?: () => number;
  /** Where the last pass stopped, and where this one stops (absent: every pass starts at the newest). */
  place?: SweepPlaceStore;
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
 * run stays short of complete forever. A sweep goes through the queue's failed set, newest first
 * (failures since the last pass, then on from where it stopped), for jobs failed over the grace ago,
 * of runs still going, that wait for it, and hands each to `handling`. Runs finalized or
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
  const maxListed = options.maxListed ?? SWEEP_MAX_LISTED;
  const pageSize = options.pageSize ?? PAGE;
  const settledBefore = (options.now ?? Date.now)() - (options.graceMs ?? SWEEP_GRACE_MS);
  if (!(maxJobs >= 1 && maxListed >= 1 && pageSize >= 1)) throw new Error('a sweep needs maxJobs, maxListed and pageSize of at least 1');
  const failedKey = queue.keys.failed;
  if (!failedKey) throw new Error(`queue ${queue.name} names no failed set`);
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
  // The failed set is scored by when each job failed (the failing worker's clock). Listing from a
  // score down, never by an offset from the top, keeps the pages steady while new failures arrive
  // and old ones age out, costs the same however deep the pass is, and lets a pass stop anywhere
  // and the next go on from there (sweep-place.ts).
  let handed = 0;
  if (options.signal?.aborted) return handed;
  const store = options.place ?? NO_SWEEP_PLACE;
  const place = placeForPass(await store.load(), settledBefore);
  let read = 0;
  let listed = 0;
  const capped = () => options.signal?.aborted || read >= maxJobs || listed >= maxListed;
  walking: while (place.ranges.length > 0) {
    const range = place.ranges[0] as SweepRange;
    // A range of failures since an earlier pass gets at most half of what is left of this pass
    // while older ranges wait, then goes behind them: a steady stream of new failures must not
    // keep the walk from ever reaching the old.
    const share = range.above !== null && place.ranges.length > 1
      ? { read: read + Math.ceil((maxJobs - read) / 2), listed: listed + Math.ceil((maxListed - listed) / 2) }
      : undefined;
    const floor = range.above === null ? '-inf' : `(${range.above}`;
    for (;;) {
      const page = await redis.zrevrangebyscore(failedKey, range.score, floor, 'WITHSCORES', 'LIMIT', range.skip, pageSize);
      for (let i = 0; i < page.length; i += 2) {
        const id = page[i] as string;
        const at = Number(page[i + 1]);
        // This job's own place: after `skip` others at the same score, or the first at a lower one.
        if (at !== range.score) {
          range.score = at;
          range.skip = 0;
        }
        if (capped()) break walking;
        if (share && (read >= share.read || listed >= share.listed)) {
          place.ranges.push(place.ranges.shift() as SweepRange);
          continue walking;
        }
        range.skip += 1;
        listed += 1;
        const listedRun = runIdOfJobId(id);
        if (listedRun && !(await isGoing(listedRun))) continue;
        read += 1;
        const job: Job<Data> | undefined = await queue.getJob(id);
        // A job removed between the listing and its read comes back empty.
        const runId = job?.data?.runId;
        if (!job || !runId) continue;
        if (runId !== listedRun && !(await isGoing(runId))) continue;
        // A job that cannot be looked at (its state unreadable) is reported like one that cannot
        // be handled: the pass goes on, or that job would stop every pass, and the queue after it.
        try {
          if (!(await handling.unhandled(job))) continue;
          await handling.handle(job);
          handed += 1;
        } catch (error) {
          options.onJobError?.(job, error);
        }
      }
      if (page.length < pageSize * 2) break;
    }
    place.ranges.shift();
  }
  await store.save(place);
  return handed;
}
