import { DelayedError, type Job, type Queue } from 'bullmq';
import type { RunStore } from '../../runs/run-store.js';
import { enqueueGenerateJobs } from '../enqueue-generate-jobs.js';
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
