import { afterEach, describe, expect, it } from 'vitest';
import { productCsv, startBunchStack, type BunchStack } from '../helpers/bunch-stack.js';
import { expectEachItemOnce } from '../helpers/expect-each-item-once.js';
import { callsInFlight, generatedImages, paidCalls } from '../helpers/paid-calls.js';
import { waitFor, type WorkerProcess } from '../helpers/spawn-worker.js';
import { killIfRunning, startWorkerProcess } from '../helpers/worker-process.js';

/**
 * Drill: two worker processes of a fleet die by SIGKILL at different moments of one run (no
 * drain, no release of anything they held), then one fresh worker finishes it. The killed
 * processes' output claims cannot be released: they block those items until their TTL runs out
 * (3 s call timeout + 15 s = 18 s), and the run must still complete, whole and paid once per item
 * except for calls that were in flight when a process died.
 */
const ITEMS = 60;
const CONCURRENCY = 4;

let stack: BunchStack | undefined;
const processes: WorkerProcess[] = [];
afterEach(async () => {
  for (const worker of processes.splice(0)) await killIfRunning(worker);
  await stack?.stop();
  stack = undefined;
});

describe('chaos: a burst of SIGKILLs', () => {
  it('two workers killed mid-run, a fresh one finishes: every item once, extra paid calls only from calls in flight', async () => {
    stack = await startBunchStack();
    const s = stack;
    s.emulator.setKnobs({ latency: { kind: 'fixed', ms: 200 } });
    const timings = { concurrency: CONCURRENCY, lockDurationMs: 1500, stalledIntervalMs: 1000 };
    const [a, b] = await Promise.all([startWorkerProcess(s, timings), startWorkerProcess(s, timings)]);
    processes.push(a, b);
    const jobFile = await s.writeJob({
      catalogCsv: productCsv(ITEMS),
      job: { sync: { timeoutMs: '3s', attempts: 3, backoff: { initialMs: 50, maxMs: 200, jitter: 0 } } },
    });
    const started = await s.start(jobFile);
    const terminal = async () => (await s.plane.runs.getMeta(started.runId))!.terminal;

    await waitFor(async () => (await terminal()) >= 10 && callsInFlight(s.emulator) > 0, 30_000, '10 items done, calls in flight');
    a.child.kill('SIGKILL');
    expect((await a.exited).signal).toBe('SIGKILL');
    await waitFor(async () => (await terminal()) >= 30 && callsInFlight(s.emulator) > 0, 30_000, '30 items done, calls in flight');
    b.child.kill('SIGKILL');
    expect((await b.exited).signal).toBe('SIGKILL');
    const doneAtLastKill = await terminal();
    expect(doneAtLastKill).toBeLessThan(ITEMS);

    await s.startWorkers({ concurrency: CONCURRENCY, lockDurationMs: 1500, stalledIntervalMs: 500, claimRecheckMs: 500 });
    // Items the dead held claims on wait out the claim TTL (18 s): the run completes after it.
    const meta = await s.waitForRun(started.runId, 90_000);
    expect(meta.status).toBe('succeeded');
    expect(meta.counts).toEqual({ succeeded: ITEMS, failed: 0, skipped: 0, cancelled: 0 });
    const lines = expectEachItemOnce(await s.readManifest(s.storeFor(started.outputUrl), started.runId), ITEMS);
    expect(new Set(lines.map((line) => line.image?.key)).size).toBe(ITEMS);

    // Bound: ITEMS + 2 × CONCURRENCY. Only a call in flight in a process at the moment it died can
    // have been paid without its result being stored; every stored item is never called again.
    // Counted both as delivered 200s and as images the emulator rendered (delivered or not: the
    // real API may bill a call whose client vanished).
    const bound = ITEMS + 2 * CONCURRENCY;
    expect(paidCalls(s.emulator)).toBeGreaterThanOrEqual(ITEMS);
    expect(paidCalls(s.emulator)).toBeLessThanOrEqual(bound);
    expect(generatedImages(s.emulator)).toBeLessThanOrEqual(bound);
    expect(s.emulator.requestLog.stats().generations.distinctPrompts).toBe(ITEMS);
  });
});
