import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { promptHashOf } from '../../src/emulator/validate-generate-request.js';
import type { ManifestItemLine } from '../../src/manifest/manifest-line.js';
import type { StartedRun } from '../../src/lanes/start-run.js';
import { parseOutputMarker } from '../../src/outputs/output-marker.js';
import type { RunMeta } from '../../src/runs/run-store.js';
import type { ObjectStore } from '../../src/storage/object-store.js';
import { productCsv, startBunchStack, type BunchStack } from '../helpers/bunch-stack.js';
import { expectEachItemOnce } from '../helpers/expect-each-item-once.js';
import { callsInFlight, paidCallEntries, paidCalls } from '../helpers/paid-calls.js';
import { waitFor, type WorkerProcess } from '../helpers/spawn-worker.js';
import { isRunning, killIfRunning, startWorkerProcess } from '../helpers/worker-process.js';

/**
 * Drill: every key in Redis is lost mid-run (FLUSHALL: an operator's mistake, a failover to an
 * empty replica) while a worker process is calling the model. The run's state, its queue and the
 * output claims are gone; storage is not (invariant 4). The worker must survive it, and the same
 * job started again must come out whole: what storage holds is skipped without a call, only
 * what was never stored is paid for. The old run cannot finish (its state is gone): expected.
 */
const ITEMS = 40;
const CONCURRENCY = 4;

/** Item keys whose marker is in storage ("made and stored"), with the run that made each. */
async function storedItems(store: ObjectStore): Promise<Map<string, string>> {
  const made = new Map<string, string>();
  for await (const key of store.list('_bunch/results/')) {
    const body = await store.get(key);
    const marker = body && parseOutputMarker(body);
    if (marker) made.set(marker.itemKey, marker.runId);
  }
  return made;
}

describe('chaos: FLUSHALL mid-run, then the job again', () => {
  let stack: BunchStack;
  let worker: WorkerProcess;
  const drill = {} as {
    first: StartedRun;
    second: StartedRun;
    meta: RunMeta;
    lines: ManifestItemLine[];
    storedBeforeFlush: Map<string, string>;
    inFlightAtFlush: number;
    paidBeforeFlush: number;
  };

  beforeAll(async () => {
    stack = await startBunchStack();
    const s = stack;
    s.emulator.setKnobs({ latency: { kind: 'fixed', ms: 300 } });
    worker = await startWorkerProcess(s, { concurrency: CONCURRENCY, lockDurationMs: 1500, stalledIntervalMs: 1000 });
    const jobFile = await s.writeJob({ catalogCsv: productCsv(ITEMS) });
    drill.first = await s.start(jobFile);
    const store = s.storeFor(drill.first.outputUrl);
    await waitFor(
      async () => ((await s.plane.runs.getMeta(drill.first.runId))?.counts.succeeded ?? 0) >= 10 && callsInFlight(s.emulator) > 0,
      30_000,
      '10 items stored and calls in flight',
    );

    drill.storedBeforeFlush = await storedItems(store);
    const admin = new Redis(s.redis.url, { maxRetriesPerRequest: 1 });
    try {
      expect(await admin.flushall()).toBe('OK');
    } finally {
      admin.disconnect();
    }
    drill.inFlightAtFlush = callsInFlight(s.emulator);
    drill.paidBeforeFlush = paidCalls(s.emulator);

    // The same job again, at once (the worker's in-flight calls of the lost run may still land).
    drill.second = await s.start(jobFile);
    drill.meta = await s.waitForRun(drill.second.runId, 60_000);
    drill.lines = (await s.readManifest(store, drill.second.runId)) as ManifestItemLine[];
  });
  afterAll(async () => {
    await killIfRunning(worker);
    await stack?.stop();
  });

  it('the worker survives, the new run is whole, stored items are not paid again', async () => {
    const s = stack;
    const { first, meta, storedBeforeFlush, inFlightAtFlush, paidBeforeFlush } = drill;
    expect(storedBeforeFlush.size).toBeGreaterThanOrEqual(10);
    expect(storedBeforeFlush.size).toBeLessThan(ITEMS);
    expect(inFlightAtFlush).toBeGreaterThan(0);
    expect(inFlightAtFlush).toBeLessThanOrEqual(CONCURRENCY);
    expect(isRunning(worker)).toBe(true);
    expect(meta.status).toBe('succeeded');
    expect(meta.counts.failed + meta.counts.cancelled).toBe(0);
    expect(meta.counts.succeeded + meta.counts.skipped).toBe(ITEMS);

    const lines = expectEachItemOnce(drill.lines, ITEMS);
    const paidByPrompt = new Map<string, number>();
    for (const entry of paidCallEntries(s.emulator)) paidByPrompt.set(entry.promptHash ?? '', (paidByPrompt.get(entry.promptHash ?? '') ?? 0) + 1);
    const paidFor = (rowKey: string) => paidByPrompt.get(promptHashOf(`Studio product photo of Product ${Number(rowKey.slice(4))}`)) ?? 0;
    for (const line of lines) {
      expect(line.image, line.itemKey).toBeDefined();
      if (storedBeforeFlush.has(line.itemKey)) {
        // Stored before the flush: skipped by the new run, naming the run that paid, no new call.
        expect(line).toMatchObject({ status: 'skipped', reused: true, reusedFrom: first.runId, attempts: 0, costUsd: 0 });
        expect(paidFor(line.key), line.itemKey).toBe(1);
      } else if (line.status === 'skipped') {
        // Stored after the flush by a call of the lost run that was in flight.
        expect(line).toMatchObject({ reused: true, reusedFrom: first.runId });
        expect(paidFor(line.key), line.itemKey).toBe(1);
      } else {
        expect(line.status).toBe('succeeded');
        // Paid by the new run; once more only if the lost run had it in flight at the flush.
        expect(paidFor(line.key), line.itemKey).toBeGreaterThanOrEqual(1);
        expect(paidFor(line.key), line.itemKey).toBeLessThanOrEqual(2);
      }
    }

    // Bound: ITEMS + the calls in flight at the flush (at most CONCURRENCY = 4). Those belonged to
    // a run whose state and claims were erased: the new run cannot know they are under way, and
    // may pay for the same outputs again. Everything stored before the flush costs nothing more.
    const paid = paidCalls(s.emulator);
    expect(paid).toBeGreaterThanOrEqual(ITEMS);
    expect(paid).toBeLessThanOrEqual(ITEMS + inFlightAtFlush);
    expect(paid - paidBeforeFlush).toBeLessThanOrEqual(ITEMS - storedBeforeFlush.size + inFlightAtFlush);

    // The worker rode it out and still drains cleanly.
    worker.child.kill('SIGTERM');
    expect(await worker.exited).toEqual({ code: 0, signal: null });
  });

  it('the lost run leaves no state behind in Redis (late records of its in-flight calls are not written)', async () => {
    // The calls in flight at the flush finish afterwards and record their items: into a run that
    // no longer exists. Those writes recreate part of its state (meta hash, done bitmap, records)
    // with no TTL and nothing that will ever finalize or remove it.
    const admin = new Redis(stack.redis.url, { maxRetriesPerRequest: 1 });
    try {
      const leftovers: string[] = [];
      for (const key of await admin.keys(`${stack.prefix}:run:{${drill.first.runId}}*`)) {
        if ((await admin.pttl(key)) < 0) leftovers.push(`${key} (${await admin.type(key)})`);
      }
      expect(leftovers).toEqual([]);
    } finally {
      admin.disconnect();
    }
  });
});
