import { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { writeGallery } from '../gallery/write-gallery.js';
import type { RunContextCache } from '../lanes/run-context-cache.js';
import { REPORT_QUEUE, type ReportJobData } from '../lanes/run-queues.js';

/**
 * Writes finished runs' galleries, one at a time per process: thumbnails are CPU work that
 * must not crowd out the calls this process makes. A failure is retried by BullMQ (3 attempts)
 * and never touches the run, which is final already; `bunch gallery <runId>` writes it again.
 */
export function createReportWorker(options: { connection: Redis; prefix: string; contexts: RunContextCache; logger: Logger }): Worker<ReportJobData> {
  return new Worker<ReportJobData>(
    REPORT_QUEUE,
    async (job) => {
      const { store } = await options.contexts.get(job.data.runId);
      try {
        const gallery = await writeGallery(store, job.data.runId);
        options.logger.info({ runId: job.data.runId, gallery: gallery.uri, items: gallery.items, thumbnails: gallery.thumbnails }, 'gallery written');
        return gallery.uri;
      } catch (error) {
        options.logger.warn({ runId: job.data.runId, err: { message: (error as Error).message } }, 'gallery not written');
        throw error;
      }
    },
    { connection: options.connection, prefix: options.prefix, concurrency: 1 },
  );
}
