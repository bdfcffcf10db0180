import type { Redis } from 'ioredis';
import { shardStatesOf } from './batch/shard-state.js';
import { enqueueShard } from './batch/batch-queue.js';
import { requestFeed } from './sync/feed-job.js';
import type { RunQueues } from './run-queues.js';
import type { RunStore } from '../runs/run-store.js';

/** BullMQ's lists and sets of a queue's jobs that are still to run or running. */
const UNFINISHED_LISTS = ['wait', 'active', 'paused'] as const;
const UNFINISHED_SETS = ['delayed', 'prioritized', 'waiting-children'] as const;

/**
 * What of a run's work is still somewhere in the system, or undefined when none is: items
 * waiting in storage for the feed, batch shards not done, sync jobs of the run waiting, delayed or
 * running. An adopted run (adopt-orphaned-runs.ts) is settled only once nothing is left: every
 * item its planner handed out is then recorded. Work that should be moving and is not (a feed or
 * a shard whose job is gone, as when the planner died between writing a shard and queueing it)
 * is queued again on the way; their job ids make that a no-op when they exist.
 */
export async function runWorkLeft(
  redis: Redis,
  runs: RunStore,
  queues: Pick<RunQueues, 'generate' | 'batch' | 'finalize'>,
  runId: string,
): Promise<string | undefined> {
  const meta = await runs.getMeta(runId);
  if (!meta) return undefined;
  if (meta.feed && meta.feed.next < meta.feed.chunks) {
    await requestFeed(queues.finalize, runId);
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
  return jobs > 0 ? `${jobs} sync job(s) not finished` : undefined;
}
