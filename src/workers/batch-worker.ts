import { Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { BATCH_QUEUE, type BatchJobData } from '../lanes/batch/batch-queue.js';

export interface BatchWorkerOptions {
  connection: Redis;
  prefix: string;
  /** Shards handled at once by this process (each mostly waits; collection streams one file). */
  concurrency: number;
  processor: (job: Job<BatchJobData>, token?: string) => Promise<string>;
  lockDurationMs?: number;
  stalledIntervalMs?: number;
}

/**
 * The BullMQ worker of the batch lane. Shard jobs move themselves to the delayed set between
 * polls, so a worker holds a job only while it submits, polls once, or collects; a collection of
 * a large result file keeps the lock renewed for as long as it streams.
 */
export function createBatchWorker(options: BatchWorkerOptions): Worker<BatchJobData> {
  return new Worker<BatchJobData>(BATCH_QUEUE, options.processor, {
    connection: options.connection,
    prefix: options.prefix,
    concurrency: options.concurrency,
    lockDuration: options.lockDurationMs ?? 60_000,
    stalledInterval: options.stalledIntervalMs ?? 30_000,
    maxStalledCount: 3,
  });
}
