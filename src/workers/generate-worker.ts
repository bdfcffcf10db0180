import { Worker, type Job, type MinimalJob } from 'bullmq';
import type { Redis } from 'ioredis';
import { retryBackoffMs } from '../lanes/sync/retry-backoff.js';
import type { GenerateJobData } from '../lanes/sync/generate-job-data.js';
import { GENERATE_QUEUE } from '../lanes/run-queues.js';

export interface GenerateWorkerOptions {
  connection: Redis;
  prefix: string;
  concurrency: number;
  processor: (job: Job<GenerateJobData>) => Promise<string>;
  lockDurationMs?: number;
  stalledIntervalMs?: number;
}

/**
 * The BullMQ worker of the sync lane. Two settings matter beyond concurrency:
 *  - a limiter is always configured, even a generous one, because BullMQ only honours a queue-wide
 *    `queue.rateLimit(ms)` (our reaction to a 429 with RetryInfo) in workers that have a limiter;
 *  - the backoff strategy reads the wait the upstream asked for from the thrown error.
 */
export function createGenerateWorker(options: GenerateWorkerOptions): Worker<GenerateJobData> {
  return new Worker<GenerateJobData>(GENERATE_QUEUE, options.processor, {
    connection: options.connection,
    prefix: options.prefix,
    concurrency: options.concurrency,
    limiter: { max: 100_000, duration: 1000 },
    lockDuration: options.lockDurationMs ?? 30_000,
    stalledInterval: options.stalledIntervalMs ?? 30_000,
    maxStalledCount: 2,
    settings: {
      backoffStrategy: (attemptsMade: number, _type?: string, error?: Error, job?: MinimalJob) => {
        const data = job?.data as GenerateJobData | undefined;
        const backoff = data?.backoff ?? { initialMs: 2000, maxMs: 60_000, jitter: 0.5 };
        // The processor chose (and logged in the item's story) the wait already.
        const chosen = (error as { chosenDelayMs?: number } | undefined)?.chosenDelayMs;
        if (chosen !== undefined) return chosen;
        const retryAfterMs = (error as { retryAfterMs?: number } | undefined)?.retryAfterMs;
        return retryBackoffMs(attemptsMade, backoff, retryAfterMs);
      },
    },
  });
}
