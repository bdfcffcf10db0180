import { afterEach, describe, expect, it } from 'vitest';
import { cancelRun } from '../../../src/lanes/cancel-run.js';
import type { ManifestItemLine } from '../../../src/manifest/manifest-line.js';
import { queuedJobs } from '../../../src/lanes/sync/planned-feed.js';
import { productCsv, startBunchStack, type BunchStack } from '../../helpers/bunch-stack.js';

let stack: BunchStack | undefined;
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

/**
 * A big run keeps most of its planned items in storage and feeds them to the queue a window at a
 * time. Once it is cancelled, the items still in storage are recorded cancelled by the feed in
 * bulk, a chunk per round trip — not fed through the queue for a worker to take each one only to
 * record it cancelled (a million-item run's cancel then took as long as a million deliveries, and
 * competed with other runs for the workers).
 */
describe('a cancelled run with planned items waiting in storage', () => {
  it('records them cancelled from storage without queueing them', async () => {
    stack = await startBunchStack({ concurrency: 2 });
    const open = stack;
    const started = await open.start(await open.writeJob({ catalogCsv: productCsv(200, (i) => `Product ${i} [[emu:latency=300ms]]`), job: { sync: { queueWindow: 20 } } }));
    expect(started).toMatchObject({ items: 200, waitingInStorage: 180 });
    expect(await queuedJobs(open.plane.queues.generate)).toBe(20);
    expect((await cancelRun(open.plane.runs, open.plane.queues, started.runId)).requested).toBe(true);
    await open.startWorkers();
    const meta = await open.waitForRun(started.runId, 30_000);
    expect(meta.status).toBe('cancelled');
    expect(meta.counts).toEqual({ succeeded: 0, failed: 0, skipped: 0, cancelled: 200 });
    expect(meta.feed).toEqual({ next: 36, chunks: 36 });
    // Only the 20 queued before the cancel went through a worker: a worker's cancelled record names its worker.
    const lines = (await open.readManifest(open.storeFor(started.outputUrl), started.runId)) as ManifestItemLine[];
    expect(lines).toHaveLength(200);
    expect(lines.filter((line) => line.worker !== undefined)).toHaveLength(20);
    expect(lines.every((line) => line.errorCode === 'E_CANCELLED')).toBe(true);
    expect(open.emulator.requestLog.count({ route: 'generateContent' })).toBe(0);
  });
});
