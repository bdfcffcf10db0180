import { afterEach, describe, expect, it } from 'vitest';
import { productCsv, startBunchStack, type BunchStack } from '../../helpers/bunch-stack.js';
import { killIfRunning, spawnWorker, waitFor, type WorkerProcess } from '../../helpers/spawn-worker.js';

let stack: BunchStack | undefined;
let worker: WorkerProcess | undefined;
afterEach(async () => {
  await killIfRunning(worker);
  await stack?.stop();
  stack = undefined;
});

function env(s: BunchStack, graceMs: number): Record<string, string> {
  return {
    REDIS_URL: s.redis.url,
    BUNCH_PREFIX: s.prefix,
    GEMINI_BASE_URL: s.emulator.url,
    GEMINI_API_KEY: s.emulator.apiKey ?? 'unused',
    BUNCH_SHUTDOWN_GRACE_MS: String(graceMs),
  };
}

describe('stopping a worker process with signals', () => {
  it('SIGTERM drains: the call in flight finishes and is recorded, then the worker exits 0', async () => {
    stack = await startBunchStack();
    worker = spawnWorker(env(stack, 20_000), ['--concurrency', '1']);
    await waitFor(() => worker!.stderr().includes('"workers ready"'), 30_000, 'the worker to start');
    const started = await stack.start(await stack.writeJob({ catalogCsv: productCsv(1, () => 'slow [[emu:latency=1500ms]]') }));
    await waitFor(() => stack!.emulator.requestLog.inFlight().length > 0, 10_000, 'the call to start');
    worker.child.kill('SIGTERM');
    expect(await worker.exited).toEqual({ code: 0, signal: null });
    expect((await stack.plane.runs.getMeta(started.runId))?.counts.succeeded).toBe(1);
  });

  it('the grace period over, the worker exits without the call in flight; another worker takes the item up', async () => {
    stack = await startBunchStack();
    const s = stack;
    worker = spawnWorker({ ...env(s, 300), BUNCH_LOCK_DURATION_MS: '2000', BUNCH_STALLED_INTERVAL_MS: '1000' }, ['--concurrency', '1']);
    await waitFor(() => worker!.stderr().includes('"workers ready"'), 30_000, 'the worker to start');
    // A 4 s call timeout keeps the abandoned delivery's output claim short (TTL = timeout + 15 s).
    const job = await s.writeJob({ catalogCsv: productCsv(1, () => 'slow [[emu:latency=2500ms]]'), job: { sync: { attempts: 3, timeoutMs: '4s' } } });
    const started = await s.start(job);
    await waitFor(() => s.emulator.requestLog.inFlight().length > 0, 10_000, 'the call to start');
    const signalledAt = Date.now();
    worker.child.kill('SIGTERM');
    expect(await worker.exited).toEqual({ code: 0, signal: null });
    // 300 ms of grace, not the 2.5 s the call still needed.
    expect(Date.now() - signalledAt).toBeLessThan(2000);
    expect(worker.stderr()).toContain('"shutdown grace period passed');
    expect((await s.plane.runs.getMeta(started.runId))?.terminal).toBe(0);
    // BullMQ's stalled check hands the item to the next worker, which finishes the run.
    await s.startWorkers({ concurrency: 1, lockDurationMs: 2000, stalledIntervalMs: 1000, claimRecheckMs: 500 });
    const meta = await s.waitForRun(started.runId, 50_000);
    expect(meta.counts).toEqual({ succeeded: 1, failed: 0, skipped: 0, cancelled: 0 });
  }, 90_000);

  it('a second signal exits at once, without waiting for the call in flight', async () => {
    stack = await startBunchStack();
    worker = spawnWorker(env(stack, 60_000), ['--concurrency', '1']);
    await waitFor(() => worker!.stderr().includes('"workers ready"'), 30_000, 'the worker to start');
    await stack.start(await stack.writeJob({ catalogCsv: productCsv(1, () => 'very slow [[emu:latency=20s]]') }));
    await waitFor(() => stack!.emulator.requestLog.inFlight().length > 0, 10_000, 'the call to start');
    worker.child.kill('SIGTERM');
    await waitFor(() => worker!.stderr().includes('draining'), 10_000, 'the drain to begin');
    const secondAt = Date.now();
    worker.child.kill('SIGTERM');
    expect(await worker.exited).toEqual({ code: 143, signal: null });
    expect(Date.now() - secondAt).toBeLessThan(2000);
  });
});
