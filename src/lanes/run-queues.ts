import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { openBatchQueue, type BatchJobData } from './batch/batch-queue.js';
import type { FinalizeJobData, GenerateJobData } from './sync/generate-job-data.js';
import { finalizeJobId } from './sync/generate-job-data.js';

export const GENERATE_QUEUE = 'generate';
export const FINALIZE_QUEUE = 'finalize';
export const REPORT_QUEUE = 'report';
export const DEFAULT_PREFIX = 'bunch';

/** A finished run's reports to write (the gallery): slow for big runs, so never in a finalize slot. */
export interface ReportJobData {
  runId: string;
}

export interface RunQueues {
  generate: Queue<GenerateJobData>;
  finalize: Queue<FinalizeJobData>;
  batch: Queue<BatchJobData>;
  report: Queue<ReportJobData>;
  close(): Promise<void>;
}

/**
 * The queues shared by every run and every worker process: sync items, batch shards, finalizers.
 * One `generate` queue for all runs means one limiter for the API key's quota; a run's jobs are
 * told apart by their ids (`<runId>.<index>`, `<runId>.batch.<shard>`).
 */
export function openRunQueues(connection: Redis, prefix: string = DEFAULT_PREFIX): RunQueues {
  const generate = new Queue<GenerateJobData>(GENERATE_QUEUE, { connection, prefix });
  const finalize = new Queue<FinalizeJobData>(FINALIZE_QUEUE, { connection, prefix });
  const batch = openBatchQueue(connection, prefix);
  const report = new Queue<ReportJobData>(REPORT_QUEUE, { connection, prefix });
  // A queue without an `error` listener prints every connection error as a raw stack trace
  // (console.error). The connection they share is the one that reports Redis trouble (throttled,
  // in the JSON log; see redis-connection.ts), and commands fail to their callers: nothing is lost.
  for (const queue of [generate, finalize, batch, report]) queue.on('error', () => undefined);
  return {
    generate,
    finalize,
    batch,
    report,
    async close() {
      await Promise.all([generate.close(), finalize.close(), batch.close(), report.close()]);
    },
  };
}

/** Asks for a finished run's gallery; one job per run (a second request while it exists is a no-op). */
export async function requestGallery(queue: Queue<ReportJobData>, runId: string): Promise<void> {
  await queue.add(
    'gallery',
    { runId },
    {
      jobId: `gallery.${runId}`,
      attempts: 3,
      backoff: { type: 'exponential', delay: 5000 },
      removeOnComplete: { age: 7 * 24 * 3600 },
      removeOnFail: { age: 30 * 24 * 3600 },
    },
  );
}

/**
 * Idempotent: the deterministic job id makes a second request for the same run a no-op while the
 * first is pending. A finalize job that failed for good (storage down through all its attempts)
 * is retried, so asking again after the cause is fixed finishes the run.
 */
export async function requestFinalize(queue: Queue<FinalizeJobData>, runId: string): Promise<void> {
  const existing = await queue.getJob(finalizeJobId(runId));
  if (existing && (await existing.isFailed())) {
    await existing.retry('failed');
    return;
  }
  await queue.add(
    'finalize',
    { runId },
    {
      jobId: finalizeJobId(runId),
      attempts: 10,
      backoff: { type: 'exponential', delay: 1000 },
      removeOnComplete: { age: 7 * 24 * 3600 },
      removeOnFail: { age: 30 * 24 * 3600 },
    },
  );
}
