import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { productCsv, startBunchStack, type BunchStack } from '../../helpers/bunch-stack.js';

describe('a 429 with RetryInfo pauses the whole queue', () => {
  let stack: BunchStack;
  beforeAll(async () => {
    stack = await startBunchStack();
    // Two independent worker fleets (as two machines would be), two calls in flight each.
    await stack.startWorkers({ concurrency: 2 });
    await stack.startWorkers({ concurrency: 2 });
  });
  afterAll(async () => stack?.stop());

  it('no worker starts a call while the upstream-advertised wait runs; the item then succeeds', async () => {
    const csv = productCsv(40, (i) => (i === 1 ? 'first [[emu:fail-first=1:429:retry=1500ms]]' : `Product ${i} [[emu:latency=40ms]]`));
    const started = await stack.start(await stack.writeJob({ catalogCsv: csv }));
    const meta = await stack.waitForRun(started.runId);
    expect(meta.counts.succeeded).toBe(40);

    const calls = stack.emulator.requestLog.list({ route: 'generateContent' });
    const limited = calls.filter((c) => c.status === 429);
    expect(limited).toHaveLength(1);
    const pauseStart = limited[0]!.time + limited[0]!.durationMs;
    // Margins of 150 ms on both sides absorb scheduling noise; the advertised wait is 1500 ms.
    const startedDuringPause = calls.filter((c) => c.time > pauseStart + 150 && c.time < pauseStart + 1350);
    expect(startedDuringPause).toEqual([]);
    expect(calls.filter((c) => c.time >= pauseStart + 1350).length).toBeGreaterThan(0);
  });
});
