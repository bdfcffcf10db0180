import { afterEach, describe, expect, it } from 'vitest';
import type { ManifestItemLine } from '../../../src/manifest/manifest-line.js';
import { productCsv, startBunchStack, type BunchStack } from '../../helpers/bunch-stack.js';

let stack: BunchStack | undefined;
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

describe('each delivery has an overall deadline (call + store + record)', () => {
  it('frees its slot when the deadline passes; the late work still lands once and nothing is paid twice', async () => {
    stack = await startBunchStack({ concurrency: 1 });
    await stack.startWorkers({ jobDeadlineMs: 400, claimRecheckMs: 300 });
    const titles = ['quick one', 'slow [[emu:latency=2000ms]]', 'quick two', 'quick three'];
    const jobFile = await stack.writeJob({
      catalogCsv: productCsv(titles.length, (i) => titles[i - 1]!),
      job: { sync: { timeoutMs: '10s', attempts: 3, backoff: { initialMs: 50, maxMs: 100, jitter: 0 } } },
    });
    const started = await stack.start(jobFile);
    const meta = await stack.waitForRun(started.runId);
    expect(meta.counts).toEqual({ succeeded: 4, failed: 0, skipped: 0, cancelled: 0 });

    const calls = stack.emulator.requestLog.list({ route: 'generateContent', status: 200 });
    expect(calls).toHaveLength(4);
    const slow = calls.find((call) => call.durationMs >= 2000)!;
    // With one slot, later items were called while the slow call was still running: its slot was freed.
    const during = calls.filter((call) => call !== slow && call.time > slow.time && call.time < slow.time + slow.durationMs);
    expect(during.length).toBeGreaterThanOrEqual(1);
    const manifest = (await stack.readManifest(stack.storeFor(started.outputUrl), started.runId)) as ManifestItemLine[];
    expect(manifest.map((line) => line.key).sort()).toEqual(['SKU-0001', 'SKU-0002', 'SKU-0003', 'SKU-0004']);
  });
});
