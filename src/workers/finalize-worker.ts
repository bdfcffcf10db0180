import { DelayedError, Worker, type Queue } from 'bullmq';
import { FEED_JOB_NAME, feedRun } from '../lanes/sync/feed-job.js';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { RunContextCache } from '../lanes/run-context-cache.js';
import type { FinalizeJobData, GenerateJobData } from '../lanes/sync/generate-job-data.js';
import { FINALIZE_QUEUE, requestGallery, type ReportJobData } from '../lanes/run-queues.js';
import { FinalizerBusyError, finalizeRun } from '../manifest/finalize-run.js';
import { notifyRunEnded } from '../notify/notify-run-ended.js';
import type { RunStore } from '../runs/run-store.js';

/** How long a finalize job waits when another finalizer of its run holds the lock. */
const FINALIZER_BUSY_RECHECK_MS = 30_000;

/** Writes a run's manifest and summary once all its items are terminal; feeds big runs' queues. */
export function createFinalizeWorker(options: {
  connection: Redis;
  prefix: string;
  runs: RunStore;
  contexts: RunContextCache;
  generateQueue: Queue<GenerateJobData>;
  /** Asks for a run's finalize (the feed records a stopped run's waiting items itself). */
  onRunComplete(runId: string): Promise<void>;
  /** Where the gallery of a finalized run is asked for (report-worker.ts writes it). */
  reportQueue: Queue<ReportJobData>;
  logger: Logger;
  /** Webhooks on private addresses (BUNCH_NOTIFY_ALLOW_PRIVATE=1). */
  allowPrivateWebhooks?: boolean;
}): Worker<FinalizeJobData> {
  return new Worker<FinalizeJobData>(
    FINALIZE_QUEUE,
    async (job, token) => {
      // The same queue carries each big run's feed job (planned items from storage into the queue).
      if (job.name === FEED_JOB_NAME) return feedRun(job, token, options);
      const { store, config } = await options.contexts.get(job.data.runId);
      let summary: Awaited<ReturnType<typeof finalizeRun>>;
      try {
        summary = await finalizeRun(options.runs, store, job.data.runId, options.logger);
      } catch (error) {
        if (!(error instanceof FinalizerBusyError)) throw error;
        // Another delivery of this job (BullMQ redelivers one it thinks stalled) is finalizing:
        // look again later, without using an attempt; by then the run is final or its lock lapsed.
        await job.moveToDelayed(Date.now() + FINALIZER_BUSY_RECHECK_MS, token);
        throw new DelayedError();
      }
      // The gallery is a view of the manifest, made by the report worker: a big run's takes
      // minutes, which must not hold a finalize slot (feeds of running runs share this queue).
      // Asked for by every finalize job of a final run, not only the one that wrote the summary
      // (a crash in between must not lose it); the job id makes repeats no-ops.
      if (config.gallery !== false) await requestGallery(options.reportQueue, job.data.runId);
      // Only the finalization that wrote the summary notifies (a repeat returns undefined).
      if (summary && config.notify) {
        await notifyRunEnded(config, summary, { logger: options.logger, env: process.env, allowPrivate: options.allowPrivateWebhooks ?? false }).catch(
          (error: unknown) => options.logger.warn({ err: { message: (error as Error).message } }, 'webhook notification failed'),
        );
      }
      return summary?.status ?? 'already-final';
    },
    { connection: options.connection, prefix: options.prefix, concurrency: 2 },
  );
}
