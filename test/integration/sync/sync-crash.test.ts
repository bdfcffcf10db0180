import { afterEach, describe, expect, it } from 'vitest';
import type { ManifestItemLine } from '../../../src/manifest/manifest-line.js';
import { productCsv, startBunchStack, type BunchStack } from '../../helpers/bunch-stack.js';
import { killIfRunning, spawnWorker, waitFor, type WorkerProcess } from '../../helpers/spawn-worker.js';

let stack: BunchStack | undefined;
let worker: WorkerProcess | undefined;
afterEach(async () => {
  await killIfRunning(worker);
  await stack?.stop();
});

function workerEnv(s: BunchStack): Record<string, string> {
  return {
    REDIS_URL: s.redis.url,
    BUNCH_PREFIX: s.prefix,
    GEMINI_BASE_URL: s.emulator.url,
    GEMINI_API_KEY: s.emulator.apiKey ?? 'unused',
    BUNCH_LOCK_DURATION_MS: '2000',
    BUNCH_STALLED_INTERVAL_MS: '1000',
  };
}

describe('worker crashes and shutdowns', () => {
  it('a worker killed with SIGKILL mid-run: another finishes, nothing lost, duplicated or paid twice', async () => {
    stack = await startBunchStack();
    const s = stack;
    worker = spawnWorker(workerEnv(s), ['--concurrency', '4']);
    await waitFor(() => worker!.stderr().includes('workers ready'), 30_000, 'the worker process to start');
    const started = await s.start(
      // A 3 s call timeout keeps the dead worker's output claims short (TTL = timeout + 15 s).
      await s.writeJob({
        catalogCsv: productCsv(60),
        job: { prompt: 'Photo of {{title}} [[emu:latency=100ms]]', sync: { attempts: 3, timeoutMs: '3s', backoff: { initialMs: 50, maxMs: 200, jitter: 0 } } },
      }),
    );
    await waitFor(async () => (await s.plane.runs.getMeta(started.runId))!.counts.succeeded >= 12, 30_000, '12 items');
    worker.child.kill('SIGKILL');
    expect((await worker.exited).signal).toBe('SIGKILL');
    const beforeRecovery = (await s.plane.runs.getMeta(started.runId))!.terminal;
    expect(beforeRecovery).toBeLessThan(60);

    await s.startWorkers({ concurrency: 4, lockDurationMs: 2000, stalledIntervalMs: 1000 });
    const meta = await s.waitForRun(started.runId, 60_000);
    expect(meta.status).toBe('succeeded');
    expect(meta.counts).toEqual({ succeeded: 60, failed: 0, skipped: 0, cancelled: 0 });

    const manifest = (await s.readManifest(s.storeFor(started.outputUrl), started.runId)) as ManifestItemLine[];
    expect(manifest).toHaveLength(60);
    expect(new Set(manifest.map((l) => l.index)).size).toBe(60);
    expect(new Set(manifest.map((l) => l.image!.key)).size).toBe(60);
    const generations = s.emulator.requestLog.stats().generations;
    expect(generations.distinctPrompts).toBe(60);
    // Only calls in flight at the moment of the kill (at most the dead worker's concurrency) can
    // have been paid and lost; every item stored before the kill was never called again.
    expect(generations.total - generations.distinctPrompts).toBeLessThanOrEqual(4);
    // Cost counts each stored result once (an item recovered from its marker keeps its cost);
    // calls lost in flight with the killed worker are not in it (they left no record).
    expect(meta.costUsd).toBeCloseTo(60 * 0.058, 6);
  });

  it('SIGTERM drains: in-flight items finish and are recorded, then the process exits 0', async () => {
    stack = await startBunchStack();
    const s = stack;
    worker = spawnWorker(workerEnv(s), ['--concurrency', '3']);
    await waitFor(() => worker!.stderr().includes('workers ready'), 30_000, 'the worker process to start');
    const started = await s.start(
      await s.writeJob({ catalogCsv: productCsv(30), job: { prompt: 'Photo of {{title}} [[emu:latency=400ms]]' } }),
    );
    await waitFor(async () => s.emulator.requestLog.stats().generations.total + (await activeCount(s)) >= 3, 30_000, 'calls in flight');
    await waitFor(async () => (await activeCount(s)) === 3, 30_000, '3 active jobs');
    worker.child.kill('SIGTERM');
    const exit = await worker.exited;
    expect(exit).toEqual({ code: 0, signal: null });
    expect(worker.stderr()).toContain('draining');
    const meta = (await s.plane.runs.getMeta(started.runId))!;
    // The three in-flight calls completed and were recorded before exit; nothing is left active.
    expect(meta.counts.succeeded).toBeGreaterThanOrEqual(3);
    expect(await activeCount(s)).toBe(0);
    expect(s.emulator.requestLog.stats().generations.total).toBe(meta.counts.succeeded);

    await s.startWorkers({ concurrency: 8 });
    expect((await s.waitForRun(started.runId)).counts.succeeded).toBe(30);
    expect(s.emulator.requestLog.stats().generations.total).toBe(30);
  });
});

async function activeCount(s: BunchStack): Promise<number> {
  return s.plane.queues.generate.getActiveCount();
}
