import { DelayedError, type Job, type Queue } from 'bullmq';
import { baseRecord } from '../../outputs/store-item-output.js';
import type { ItemTarget } from '../../plan/planned-item.js';
import type { ItemRecord } from '../../runs/item-record.js';
import type { RunStore, StopReason } from '../../runs/run-store.js';
import { recordItems } from '../record-item.js';
import { stopMessage } from '../stop-message.js';
import { enqueueGenerateJobs, type SyncWork } from '../enqueue-generate-jobs.js';
import type { RunContextCache } from '../run-context-cache.js';
import type { FinalizeJobData, GenerateJobData } from './generate-job-data.js';
import { DEFAULT_QUEUE_WINDOW, feedChunkItems, queuedJobs, readPlannedChunk } from './planned-feed.js';

export const FEED_JOB_NAME = 'feed';
/** How often a feed job looks at the queue while its run still has items in storage. */
const FEED_POLL_MS = 1000;

export function feedJobId(runId: string): string {
  return `feed.${runId}`;
}

/** Starts the run's feed job (idempotent: one per run, by job id). It runs on the finalize queue. */
export async function requestFeed(queue: Queue<FinalizeJobData>, runId: string): Promise<void> {
  await queue.add(
    FEED_JOB_NAME,
    { runId },
    {
      jobId: feedJobId(runId),
      attempts: 20,
      backoff: { type: 'exponential', delay: 1000 },
      removeOnComplete: { age: 24 * 3600 },
      removeOnFail: { age: 30 * 24 * 3600 },
    },
  );
}

export interface FeedDeps {
  runs: RunStore;
  contexts: RunContextCache;
  generateQueue: Queue<GenerateJobData>;
  /** Asks for the run's finalize when a record completed it (the feed records a stopped run's items). */
  onRunComplete(runId: string): Promise<void>;
  pollMs?: number;
}

/**
 * One pass of a run's feed: moves chunks of planned items from storage into the generate queue
 * while it has room under the window, then comes back later (a delayed job, so a crashed worker's
 * feed is picked up by another) until every chunk is queued. Each chunk is enqueued before the
 * cursor moves past it: a crash in between enqueues it again, a no-op by job id.
 */
export async function feedRun(job: Job<FinalizeJobData>, token: string | undefined, deps: FeedDeps): Promise<string> {
  const { runId } = job.data;
  const { config, store } = await deps.contexts.get(runId);
  const window = config.sync.queueWindow ?? DEFAULT_QUEUE_WINDOW;
  const chunkItems = feedChunkItems(window);
  let { next, chunks } = await deps.runs.feedProgress(runId);
  const { stop } = await deps.runs.getControl(runId);
  if (stop) {
    // Stopped: what still waits in storage is recorded cancelled here, a chunk per round trip,
    // rather than queued for a worker to take each item only to record it cancelled.
    for (; next < chunks; next += 1) {
      const work = await readPlannedChunk(store, runId, next);
      await recordItems(deps.runs, store, runId, cancelledRecords(work, stop), deps.onRunComplete);
      await deps.runs.setFeedNext(runId, next + 1);
    }
    return 'cancelled';
  }
  while (next < chunks) {
    const queued = await queuedJobs(deps.generateQueue);
    if (queued + chunkItems > window) break;
    const work = await readPlannedChunk(store, runId, next);
    await enqueueGenerateJobs(deps.generateQueue, config, work);
    next += 1;
    await deps.runs.setFeedNext(runId, next);
  }
  if (next < chunks) {
    await job.moveToDelayed(Date.now() + (deps.pollMs ?? FEED_POLL_MS), token);
    throw new DelayedError();
  }
  return 'fed';
}

/** A chunk's items, and the `from:` variants riding on them, recorded as never started. */
function cancelledRecords(work: readonly SyncWork[], stop: StopReason): ItemRecord[] {
  const at = new Date().toISOString();
  const cancelled = (target: ItemTarget): ItemRecord => ({ ...baseRecord(target, 'sync', 'cancelled', at), attempts: 0, errorCode: stop, errorMessage: stopMessage(stop) });
  return work.flatMap((unit) => [cancelled(unit.target), ...(unit.dependants ?? []).map((dependant) => cancelled(dependant.target))]);
}
