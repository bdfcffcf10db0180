import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';

export const BATCH_QUEUE = 'batch';

/** One BullMQ job per shard drives that shard's whole life (see batch-processor.ts). */
export interface BatchJobData {
  runId: string;
  shard: string;
}

/** Deterministic, colon-free (BullMQ custom ids must not contain `:`). */
export function batchJobId(runId: string, shard: string): string {
  return `${runId}.batch.${shard}`;
}

export function openBatchQueue(connection: Redis, prefix: string): Queue<BatchJobData> {
  return new Queue<BatchJobData>(BATCH_QUEUE, { connection, prefix });
}

/**
 * Idempotent: a second add with the same id is ignored while the job exists. Finished shard jobs
 * are kept a week so a late re-add (a crashed planner re-running) cannot start a shard twice.
 */
export async function enqueueShard(queue: Queue<BatchJobData>, runId: string, shard: string): Promise<void> {
  await queue.add(
    'shard',
    { runId, shard },
    {
      jobId: batchJobId(runId, shard),
      attempts: 5,
      backoff: { type: 'exponential', delay: 1000 },
      removeOnComplete: { age: 7 * 24 * 3600 },
      removeOnFail: { age: 30 * 24 * 3600 },
    },
  );
}
