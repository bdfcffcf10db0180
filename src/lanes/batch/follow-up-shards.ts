import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Queue } from 'bullmq';
import type { RunConfig } from '../../runs/run-config.js';
import type { RunStore } from '../../runs/run-store.js';
import type { ObjectStore } from '../../storage/object-store.js';
import type { SyncWork } from '../enqueue-generate-jobs.js';
import { enqueueShard, type BatchJobData } from './batch-queue.js';
import { createShardState, newShardState } from './shard-state.js';
import { ShardWriter } from './shard-writer.js';

/**
 * Writes work that follows a shard into shards of its own (a resubmission `<shard>-r<n>`, a wave of
 * dependants `<shard>-d`), named `root`, `root-2`, ... and hands each to the batch queue. A shard
 * whose state exists already keeps it (a redelivered step writes the same names again).
 */
export async function writeFollowUpShards(
  deps: { runs: RunStore; store: ObjectStore; config: RunConfig; batchQueue: Queue<BatchJobData>; tempRoot?: string | undefined },
  options: { root: string; generation: number },
  work: AsyncIterable<SyncWork> | Iterable<SyncWork>,
): Promise<number> {
  const { runs, store, config } = deps;
  const runId = config.runId;
  const dir = await mkdtemp(path.join(deps.tempRoot ?? tmpdir(), 'bunch-shard-'));
  try {
    const writer = new ShardWriter({
      runId,
      store,
      dir,
      maxRequests: config.batch.maxRequestsPerBatch,
      shardName: (seq) => (seq === 1 ? options.root : `${options.root}-${seq}`),
      onShard: async (name, count, digest) => {
        // Created once: a repeated parent step must not reset a child shard that has moved on.
        await createShardState(runs, runId, newShardState(runId, name, count, options.generation, digest));
        await enqueueShard(deps.batchQueue, runId, name);
      },
    });
    for await (const { target, request, dependants } of work) await writer.add(target, request, dependants);
    await writer.close();
    return writer.items;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
