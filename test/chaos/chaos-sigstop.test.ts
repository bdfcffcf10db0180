import { afterEach, describe, expect, it } from 'vitest';
import { productCsv, startBunchStack, type BunchStack } from '../helpers/bunch-stack.js';
import { capturedLogger } from '../helpers/captured-logger.js';
import { expectEachItemOnce } from '../helpers/expect-each-item-once.js';
import { callsInFlight, generatedImages, paidCalls } from '../helpers/paid-calls.js';
import { waitFor, type WorkerProcess } from '../helpers/spawn-worker.js';
import { isRunning, killIfRunning, startWorkerProcess } from '../helpers/worker-process.js';

/**
 * Drill: a worker PROCESS frozen (SIGSTOP) with calls in flight, for longer than its BullMQ lock
 * but shorter than its output claims. BullMQ hands its jobs to another worker (at-least-once);
 * the claims in Redis (invariant 8) must make that worker wait for the frozen one instead of
 * paying for the same outputs again. When the frozen process resumes (SIGCONT) it finishes its
 * calls, stores and records them; the redeliveries find the item terminal or its marker.
 */
const ITEMS = 20;
const LATENCY_MS = 1500;
/** Longer than A's lock (1.5 s), far shorter than the claim TTL (20 s call timeout + 15 s = 35 s). */
const FROZEN_AT_LEAST_MS = 4000;

let stack: BunchStack | undefined;
let frozen: WorkerProcess | undefined;
afterEach(async () => {
  await killIfRunning(frozen);
  frozen = undefined;
  await stack?.stop();
  stack = undefined;
});

describe('chaos: a worker process paused past its lock', () => {
  it('the other worker waits on the claims of the frozen one: every item once, exactly one paid call each', async () => {
    stack = await startBunchStack();
    const s = stack;
    s.emulator.setKnobs({ latency: { kind: 'fixed', ms: LATENCY_MS } });
    const a = await startWorkerProcess(s, { concurrency: 4, lockDurationMs: 1500, stalledIntervalMs: 1000 });
    frozen = a;
    const jobFile = await s.writeJob({
      catalogCsv: productCsv(ITEMS),
      job: { sync: { timeoutMs: '20s', attempts: 3, backoff: { initialMs: 50, maxMs: 200, jitter: 0 } } },
    });
    const started = await s.start(jobFile);
    expect(started.enqueued).toBe(ITEMS);

    // A is the only worker: once 4 calls are in flight (its concurrency), they are all A's.
    await waitFor(() => callsInFlight(s.emulator) === 4, 30_000, "A's four calls in flight");
    a.child.kill('SIGSTOP');
    const frozenAt = Date.now();
    const inFlightAtStop = callsInFlight(s.emulator);
    expect(inFlightAtStop).toBe(4);
    expect(paidCalls(s.emulator)).toBe(0);

    const log = capturedLogger();
    await s.startWorkers({ concurrency: 4, lockDurationMs: 1500, stalledIntervalMs: 500, claimRecheckMs: 500, logger: log.logger });
    const waitedItems = () => new Set(log.lines('output is being generated elsewhere; waiting').map((line) => String(line['item'])));
    // Hold A frozen for the stated time, and until B has been handed every job A had in flight
    // (its locks expired) and found each one claimed: that is the moment a worker without claims
    // would have paid a second time. Bounded well inside the claim TTL.
    await waitFor(
      () => Date.now() - frozenAt >= FROZEN_AT_LEAST_MS && waitedItems().size >= inFlightAtStop,
      20_000,
      "B to be handed A's stalled jobs and wait on their claims",
    );
    expect(Date.now() - frozenAt).toBeLessThan(35_000);
    // While A was frozen no output was called twice (A's own answers sit unread in its sockets).
    const generations = s.emulator.requestLog.stats().generations;
    expect(generations.total).toBe(generations.distinctPrompts);
    a.child.kill('SIGCONT');

    const meta = await s.waitForRun(started.runId, 60_000);
    expect(meta.status).toBe('succeeded');
    expect(meta.counts).toEqual({ succeeded: ITEMS, failed: 0, skipped: 0, cancelled: 0 });
    const lines = expectEachItemOnce(await s.readManifest(s.storeFor(started.outputUrl), started.runId), ITEMS);
    expect(lines.every((line) => line.status === 'succeeded' && line.image !== undefined)).toBe(true);

    // Bound: exactly ITEMS paid calls. Each output was called once, by A for the items it had in
    // flight when frozen, by A or B for the rest; 0 extra.
    expect(paidCalls(s.emulator)).toBe(ITEMS);
    expect(generatedImages(s.emulator)).toBe(ITEMS);
    expect(s.emulator.requestLog.stats().generations.distinctPrompts).toBe(ITEMS);
    expect(meta.costUsd).toBeCloseTo(ITEMS * lines[0]!.costUsd, 9);

    // A survived the freeze and drains cleanly.
    expect(isRunning(a)).toBe(true);
    a.child.kill('SIGTERM');
    expect(await a.exited).toEqual({ code: 0, signal: null });
  });
});
