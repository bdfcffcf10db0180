import type { Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { shardStatesOf } from './batch/shard-state.js';
import { enqueueShard } from './batch/batch-queue.js';
import { feedJobId, requestFeed } from './sync/feed-job.js';
import type { GenerateJobData } from './sync/generate-job-data.js';
import type { RunQueues } from './run-queues.js';
import type { RunStore } from '../runs/run-store.js';

/** BullMQ's lists and sets of a queue's jobs that are still to run or running. */
const UNFINISHED_LISTS = ['wait', 'active', 'paused'] as const;
const UNFINISHED_SETS = ['delayed', 'prioritized', 'waiting-children'] as const;

export interface FailedJobsCheck {
  /** Whether BullMQ's verdict on this job still waits to be handled (item unrecorded, dependants not released). */
  unhandled(job: Job<GenerateJobData>): Promise<boolean>;
  /** Failures since then are looked at (the sweep of the failed set records older ones). */
  sinceMs: number;
}

/** Failed jobs looked at in one go: a run's recent failures, never a week of them. */
const FAILED_LOOKED_AT = 5000;

/**
 * What of a run's work is still somewhere in the system, or undefined when none is: items
 * waiting in storage for the feed, batch shards not done, sync jobs of the run waiting, delayed or
 * running, and (with `failed`) the run's recent failures nobody handled yet. An adopted run (adopt-orphaned-runs.ts) is settled only once nothing is left: every
 * item its planner handed out is then recorded. Work that should be moving and is not (a feed or
 * a shard whose job is gone, as when the planner died between writing a shard and queueing it)
 * is queued again on the way; their job ids make that a no-op when they exist.
 */
export async function runWorkLeft(
  redis: Redis,
  runs: RunStore,
  queues: Pick<RunQueues, 'generate' | 'batch' | 'finalize'>,
  runId: string,
  failed?: FailedJobsCheck,
): Promise<string | undefined> {
  const meta = await runs.getMeta(runId);
  if (!meta) return undefined;
  if (meta.feed && meta.feed.next < meta.feed.chunks) {
    // A feed job BullMQ gave up on (storage down through its attempts) is kept as failed, and
    // asking for it again would change nothing: it is retried, so the stopped run's rest is recorded.
    const feed = await queues.finalize.getJob(feedJobId(runId));
    if (feed && (await feed.isFailed())) await feed.retry('failed');
    else await requestFeed(queues.finalize, runId);
    return `${meta.feed.chunks - meta.feed.next} planned chunk(s) waiting in storage`;
  }
  const open = shardStatesOf(meta).filter((state) => state.phase !== 'done');
  if (open.length > 0) {
    for (const state of open) await enqueueShard(queues.batch, runId, state.shard);
    return `${open.length} batch shard(s) not done`;
  }
  // One MULTI: a job moves between these lists atomically, so a snapshot never misses one in passing.
  const queue = queues.generate;
  const multi = redis.multi();
  for (const name of UNFINISHED_LISTS) multi.lrange(queue.keys[name] as string, 0, -1);
  for (const name of UNFINISHED_SETS) multi.zrange(queue.keys[name] as string, '0', '-1');
  const replies = (await multi.exec()) ?? [];
  const ours = `${runId}.`;
  let jobs = 0;
  for (const [error, ids] of replies) {
    if (error) throw error;
    for (const id of ids as string[]) if (id.startsWith(ours)) jobs += 1;
  }
  if (jobs > 0) return `${jobs} sync job(s) not finished`;
  // A job BullMQ failed for good whose process died before recording its item (or releasing its
  // hero's dependants) is in none of those lists: the sweep of the failed set records it, later.
  if (failed) {
    const recent = await redis.zrangebyscore(queue.keys.failed as string, String(failed.sinceMs), '+inf', 'LIMIT', '0', String(FAILED_LOOKED_AT));
    for (const id of recent) {
      if (!id.startsWith(ours)) continue;
      const job = await queue.getJob(id);
      if (job && (await failed.unhandled(job))) return `job ${id} failed and is not recorded yet`;
    }
  }
  return undefined;
}
