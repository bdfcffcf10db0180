import { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { RunContextCache } from '../lanes/run-context-cache.js';
import type { FinalizeJobData } from '../lanes/sync/generate-job-data.js';
import { FINALIZE_QUEUE } from '../lanes/run-queues.js';
import { finalizeRun } from '../manifest/finalize-run.js';
import type { RunStore } from '../runs/run-store.js';

/** Writes a run's manifest and summary once all its items are terminal. */
export function createFinalizeWorker(options: {
  connection: Redis;
  prefix: string;
  runs: RunStore;
  contexts: RunContextCache;
  logger: Logger;
}): Worker<FinalizeJobData> {
  return new Worker<FinalizeJobData>(
    FINALIZE_QUEUE,
    async (job) => {
      const { store } = await options.contexts.get(job.data.runId);
      const summary = await finalizeRun(options.runs, store, job.data.runId, options.logger);
      return summary?.status ?? 'already-final';
    },
    { connection: options.connection, prefix: options.prefix, concurrency: 2 },
  );
}
