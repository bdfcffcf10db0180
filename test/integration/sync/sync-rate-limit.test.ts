import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeRun } from '../../../src/cli/describe-run.js';
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

describe('a 429 asking for longer than the queue-wide pause cap (a daily quota)', () => {
  let stack: BunchStack;
  beforeAll(async () => {
    stack = await startBunchStack();
    await stack.startWorkers({ concurrency: 1, queuePauseCapMs: 1000 });
  });
  afterAll(async () => stack?.stop());

  it('does not pause the shared queue: the run\'s items wait, without calls, and status says until when', async () => {
    const csv = productCsv(8, (i) => (i === 1 ? 'first [[emu:fail-first=1:429:retry=4s]]' : `Product ${i}`));
    const started = await stack.start(await stack.writeJob({ catalogCsv: csv }));
    const deadline = Date.now() + 10_000;
    let quotaUntil: string | undefined;
    while (!quotaUntil && Date.now() < deadline) {
      quotaUntil = (await stack.plane.runs.getMeta(started.runId))?.extra.quotaUntil;
      if (!quotaUntil) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(quotaUntil).toBeDefined();
    // The queue is not paused for everyone (old behaviour: a 4 s queue-wide pause).
    expect(await stack.plane.queues.generate.getRateLimitTtl(100_000)).toBeLessThanOrEqual(0);
    const meta = await stack.plane.runs.getMeta(started.runId);
    const until = new Date(quotaUntil!).toISOString().slice(11, 16);
    expect(describeRun(meta!)).toContain(`  quota      exhausted until ${until} UTC: items wait, no calls`);

    const done = await stack.waitForRun(started.runId);
    expect(done.counts.succeeded).toBe(8);
    const calls = stack.emulator.requestLog.list({ route: 'generateContent' });
    // One 429, then each item exactly once: nobody called while the quota was gone.
    expect(calls.filter((c) => c.status === 429)).toHaveLength(1);
    expect(calls.filter((c) => c.status === 200)).toHaveLength(8);
    const resetAt = Date.parse(quotaUntil!);
    expect(calls.filter((c) => c.status === 200 && c.time < resetAt)).toHaveLength(0);
    const manifest = await stack.readManifest(stack.storeFor(done.config.outputUrl), started.runId);
    // Waiting is not an attempt: the first item made two calls, every other item one.
    expect(manifest.map((line) => (line as { attempts: number }).attempts).sort()).toEqual([1, 1, 1, 1, 1, 1, 1, 2]);
    expect(describeRun(done)).not.toContain('quota');
  });
});
