import { afterEach, describe, expect, it } from 'vitest';
import { BATCH_QUEUE } from '../../../src/lanes/batch/batch-queue.js';
import { GENERATE_QUEUE } from '../../../src/lanes/run-queues.js';
import type { ManifestItemLine } from '../../../src/manifest/manifest-line.js';
import { productCsv, startBunchStack, type BunchStack } from '../../helpers/bunch-stack.js';
import { stallPastTheLimit } from '../../helpers/stall-verdict.js';
import { batchJob, finishBatchRun, paidCalls } from '../batch/batch-harness.js';

/**
 * A job that stalled more often than allowed (its workers died or froze while holding it) is
 * failed by BullMQ, not by a processor: its stalled checker notes the verdict and the worker that
 * fetches the job next fails it with an UnrecoverableError, whatever attempts are left. The fleet
 * must still record such an item (sync lane) or salvage such a shard (batch lane), or the run
 * never completes.
 */
let stack: BunchStack | undefined;
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

describe('a job BullMQ fails for stalling too often', () => {
  it('sync lane: the item is recorded failed without a call, so the run completes', async () => {
    stack = await startBunchStack();
    const started = await stack.start(await stack.writeJob({ catalogCsv: 'sku,title\nS1,Lamp\n' }));
    await stallPastTheLimit(stack.redis.url, stack.prefix, GENERATE_QUEUE);
    await stack.startWorkers();

    const meta = await stack.waitForRun(started.runId, 15_000);
    expect(meta.counts).toEqual({ succeeded: 0, failed: 1, skipped: 0, cancelled: 0 });
    const [line] = (await stack.readManifest(stack.storeFor(started.outputUrl), started.runId)) as ManifestItemLine[];
    expect(line).toMatchObject({ itemKey: 'S1#main', status: 'failed', errorCode: 'E_INTERNAL' });
    expect(line?.errorMessage).toBe('BullMQ gave up on this job: job stalled more than allowable limit');
    expect(stack.emulator.requestLog.count({ route: 'generateContent' })).toBe(0);
  });

  it('batch lane: the shard is salvaged (its items go to the sync lane), so the run completes', async () => {
    stack = await startBunchStack({ emulator: { profile: { batch: { pendingMs: 20, runningMs: 100 } } } });
    const started = await stack.start(await stack.writeJob({ catalogCsv: productCsv(3), job: batchJob() }));
    await stallPastTheLimit(stack.redis.url, stack.prefix, BATCH_QUEUE);
    await stack.startWorkers();

    const { meta, manifest } = await finishBatchRun(stack, started.runId, started.outputUrl, 3);
    expect(meta.counts).toEqual({ succeeded: 3, failed: 0, skipped: 0, cancelled: 0 });
    expect(manifest.map((line) => line.lane)).toEqual(['sync', 'sync', 'sync']);
    expect(paidCalls(stack)).toEqual({ http: 3, batch: 0 });
  });
});
