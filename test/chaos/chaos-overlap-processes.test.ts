import { afterEach, describe, expect, it } from 'vitest';
import type { ManifestItemLine } from '../../src/manifest/manifest-line.js';
import type { StartedRun } from '../../src/lanes/start-run.js';
import { productCsv, startBunchStack, type BunchStack } from '../helpers/bunch-stack.js';
import { expectEachItemOnce } from '../helpers/expect-each-item-once.js';
import { generatedImages, paidCalls } from '../helpers/paid-calls.js';
import { runCli } from '../helpers/run-cli.js';
import type { WorkerProcess } from '../helpers/spawn-worker.js';
import { killIfRunning, loggedLines, startWorkerProcess, workerProcessEnv } from '../helpers/worker-process.js';

/**
 * Drill: cron fires the same job twice (`bunch run <job>`, the real CLI, twice) and a fleet of two
 * worker PROCESSES takes both runs' jobs at once. For each output the two runs' jobs are active at
 * the same moment, in the same or in different processes; the claim in Redis (invariant 8) lets
 * exactly one of them call the model, the other waits, finds the marker and records the item
 * skipped, naming the run that paid.
 */
const ITEMS = 12;
/** Two processes × 12 slots: every job of both runs (24) is taken at the same time. */
const CONCURRENCY = 12;

let stack: BunchStack | undefined;
const processes: WorkerProcess[] = [];
afterEach(async () => {
  for (const worker of processes.splice(0)) await killIfRunning(worker);
  await stack?.stop();
  stack = undefined;
});

describe('chaos: two overlapping runs of one job, two worker processes', () => {
  it('one paid call per output; the other run records it skipped, naming the run that paid', async () => {
    stack = await startBunchStack();
    const s = stack;
    s.emulator.setKnobs({ latency: { kind: 'fixed', ms: 1000 } });
    const timings = { concurrency: CONCURRENCY, lockDurationMs: 5000, stalledIntervalMs: 5000 };
    processes.push(...(await Promise.all([startWorkerProcess(s, timings), startWorkerProcess(s, timings)])));
    const jobFile = await s.writeJob({ catalogCsv: productCsv(ITEMS) });

    // Hold the queue while cron starts the job twice, so both runs are planned before either has
    // stored anything and the two processes then take all 24 jobs at once (otherwise which
    // process boots first, or how long a CLI takes to start, decides whether the runs overlap).
    await s.plane.queues.generate.pause();
    const env = workerProcessEnv(s, timings);
    const runs: StartedRun[] = [];
    for (const cron of ['first', 'second']) {
      const result = await runCli(['run', jobFile, '--json'], env);
      expect(result.code, `${cron} bunch run: ${result.stderr}`).toBe(0);
      runs.push(JSON.parse(result.stdout) as StartedRun);
    }
    const [first, second] = runs as [StartedRun, StartedRun];
    expect([first.enqueued, second.enqueued]).toEqual([ITEMS, ITEMS]);
    expect(first.runId).not.toBe(second.runId);
    await s.plane.queues.generate.resume();

    const [metaA, metaB] = await Promise.all([s.waitForRun(first.runId, 60_000), s.waitForRun(second.runId, 60_000)]);
    expect([metaA.status, metaB.status]).toEqual(['succeeded', 'succeeded']);
    expect(metaA.counts.succeeded + metaB.counts.succeeded).toBe(ITEMS);
    expect(metaA.counts.skipped + metaB.counts.skipped).toBe(ITEMS);

    const store = s.storeFor(first.outputUrl);
    const manifests = new Map<string, ManifestItemLine[]>();
    for (const run of [first, second]) manifests.set(run.runId, expectEachItemOnce(await s.readManifest(store, run.runId), ITEMS));
    for (let i = 1; i <= ITEMS; i += 1) {
      const key = `SKU-${String(i).padStart(4, '0')}`;
      const entries = [first, second].map((run) => ({ run: run.runId, line: manifests.get(run.runId)!.find((line) => line.key === key)! }));
      const paid = entries.filter((entry) => entry.line.status === 'succeeded');
      const other = entries.filter((entry) => entry.line.status === 'skipped');
      expect(paid, key).toHaveLength(1);
      expect(other, key).toHaveLength(1);
      expect(other[0]!.line).toMatchObject({ reused: true, reusedFrom: paid[0]!.run, costUsd: 0 });
      expect(other[0]!.line.image?.sha256).toBe(paid[0]!.line.image?.sha256);
    }

    // The claims did the work: for every item, one run's job found the output claimed and waited.
    const waited = new Set(
      processes.flatMap((worker) => loggedLines(worker).filter((line) => line['msg'] === 'output is being generated elsewhere; waiting')).map((line) => line['item']),
    );
    expect(waited.size).toBe(ITEMS);

    // Bound: exactly ITEMS paid calls for 2 × ITEMS jobs; 0 extra.
    expect(paidCalls(s.emulator)).toBe(ITEMS);
    expect(generatedImages(s.emulator)).toBe(ITEMS);
    expect(metaA.costUsd + metaB.costUsd).toBeCloseTo(ITEMS * manifests.get(first.runId)!.find((line) => line.costUsd > 0)!.costUsd, 9);
  });
});
