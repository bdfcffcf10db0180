import { UnrecoverableError, Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GENERATE_QUEUE } from '../../../src/lanes/run-queues.js';
import type { ManifestItemLine } from '../../../src/manifest/manifest-line.js';
import { createRedisConnection } from '../../../src/redis/redis-connection.js';
import { startBunchStack, type BunchStack } from '../../helpers/bunch-stack.js';

/**
 * BullMQ fails a job outside any processor when the job stalls more often than allowed (its
 * workers died or froze while holding it): the stalled checker of whichever worker notices moves
 * it to the failed set, and no worker's `failed` event fires for it. The fleet must still record
 * such an item, or its run never completes.
 */
describe('a job that BullMQ fails outside the processor', () => {
  let stack: BunchStack;
  beforeAll(async () => {
    stack = await startBunchStack();
  });
  afterAll(async () => stack?.stop());

  it('is recorded failed by the fleet, so the run completes', async () => {
    const started = await stack.start(await stack.writeJob({ catalogCsv: 'sku,title\nS1,Lamp\n' }));
    // Another process takes the job and loses it the way the stalled checker fails it.
    const connection = createRedisConnection(stack.redis.url, 'worker');
    const other = new Worker(GENERATE_QUEUE, null, { connection, prefix: stack.prefix, autorun: false });
    try {
      const job = (await other.getNextJob('other-token'))!;
      expect(job.data.itemKey).toBe('S1#main');
      await stack.startWorkers();
      // Final, as the stalled checker's failure is: no retry.
      await job.moveToFailed(new UnrecoverableError('job stalled more than allowable limit'), 'other-token', false);

      const meta = await stack.waitForRun(started.runId, 15_000);
      expect(meta.counts).toEqual({ succeeded: 0, failed: 1, skipped: 0, cancelled: 0 });
      const [line] = (await stack.readManifest(stack.storeFor(started.outputUrl), started.runId)) as ManifestItemLine[];
      expect(line).toMatchObject({ itemKey: 'S1#main', status: 'failed', errorCode: 'E_INTERNAL' });
      expect(line?.errorMessage).toBe('BullMQ gave up on this job outside a worker (job stalled more than allowable limit)');
      expect(stack.emulator.requestLog.count({ route: 'generateContent' })).toBe(0);
    } finally {
      await other.close();
      connection.disconnect();
    }
  });
});
