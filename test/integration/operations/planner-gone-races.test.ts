import path from 'node:path';
import { UnrecoverableError, Worker } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { BunchError } from '../../../src/errors/bunch-error.js';
import { startRun, type StartedRun } from '../../../src/lanes/start-run.js';
import { silentLogger } from '../../../src/logging/create-logger.js';
import type { ManifestItemLine } from '../../../src/manifest/manifest-line.js';
import { planningRunsKey } from '../../../src/runs/run-keys.js';
import type { RunMeta } from '../../../src/runs/run-store.js';
import { loadJobFile } from '../../../src/spec/load-job-file.js';
import { freezablePlanner, type FreezeAt } from '../../helpers/frozen-planner.js';
import { productCsv, startBunchStack, type BunchStack } from '../../helpers/bunch-stack.js';

let stack: BunchStack | undefined;
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

/**
 * A planner that stops at the worst moments (found by review): the fleet that takes its run over
 * must still end it with every item that was handed out recorded once, never before the last of
 * them is, and a planner that was only slow must not end it differently.
 */
describe('a run whose planner stopped at an awkward moment', () => {
  async function plannedUntilFrozen(csv: string, job: Record<string, unknown>, at: FreezeAt, options: { fleetLater?: boolean } = {}) {
    stack = await startBunchStack({ concurrency: 4 });
    const open = stack;
    const jobFile = await open.writeJob({ catalogCsv: csv, job });
    if (!options.fleetLater) await open.startWorkers({ givenUpSweepMs: 200, givenUpSweepGraceMs: 300 });
    const planner = freezablePlanner(open.plane.runs, open.plane.queues, at);
    let runId: string | undefined;
    const planning: Promise<StartedRun | unknown> = startRun(
      await loadJobFile(jobFile),
      { runs: planner.runs, queues: planner.queues, openStore: open.storeFor, logger: silentLogger() },
      { plannerLeaseMs: 600, onCreated: (id) => (runId = id) },
    ).catch((error: unknown) => error);
    for (let tries = 0; !runId && tries < 500; tries += 1) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(runId).toBeDefined();
    return { open, planner, planning, runId: runId as string };
  }

  async function endedWithEveryItem(open: BunchStack, runId: string): Promise<{ meta: RunMeta; items: ManifestItemLine[] }> {
    const meta = await open.waitForRun(runId, 40_000);
    const items = (await open.readManifest(open.storeFor(`file://${path.join(open.dir.path, 'out')}`), runId)).filter(
      (line): line is ManifestItemLine => line.status !== 'rejected',
    );
    expect(meta).toMatchObject({ status: 'aborted', stop: 'E_PLANNER_GONE', planned: true });
    expect(items).toHaveLength(meta.total as number);
    expect(new Set(items.map((line) => line.itemKey)).size).toBe(meta.total);
    expect(await open.plane.redis.sismember(planningRunsKey(open.prefix), runId)).toBe(0);
    return { meta, items };
  }

  it('gone right after handing out its last chunk: the run ends only after that chunk\'s slow call is recorded', async () => {
    // 48 rows: chunks of 16 and 32. SKU-0001's call takes 4 s; the planner stops after queueing both.
    const csv = productCsv(48, (i) => (i === 1 ? 'Slow [[emu:latency=4000ms]]' : `Product ${i}`));
    const { open, runId } = await plannedUntilFrozen(csv, {}, { afterAddBulks: 2 });
    const { meta, items } = await endedWithEveryItem(open, runId);
    // Before: adopted with the 16 of the first chunk as its total, finalized while SKU-0001's paid
    // call was in flight; its answer was dropped (47 in the manifest, summary items 16).
    expect([meta.total, meta.terminal]).toEqual([48, 48]);
    expect(items.find((line) => line.key === 'SKU-0001')).toMatchObject({ status: 'succeeded' });
    const made = items.filter((line) => line.status === 'succeeded').length;
    expect(open.emulator.requestLog.count({ route: 'generateContent', status: 200 })).toBe(made);
    for (const line of items.filter((entry) => entry.status !== 'succeeded')) expect(line).toMatchObject({ status: 'cancelled', errorCode: 'E_PLANNER_GONE' });
  });

  it('gone right before marking the run planned, with items waiting in storage for the feed: those count too', async () => {
    const { open, runId } = await plannedUntilFrozen(productCsv(60), { sync: { queueWindow: 20 } }, { before: 'markPlanned' });
    const { meta, items } = await endedWithEveryItem(open, runId);
    // Before: total 20 (the queued ones); the feed's 40 were called or cancelled after the manifest.
    expect([meta.total, meta.terminal]).toEqual([60, 60]);
    expect(items.filter((line) => line.status === 'succeeded').length).toBe(open.emulator.requestLog.count({ route: 'generateContent', status: 200 }));
  });

  it('a planner that was only slow, resuming after the fleet took over, fails with E_PLANNER_GONE and changes nothing', async () => {
    // 20 rows: chunks of 16 and 4. It stalls after queueing the first, past its lease.
    const { open, runId, planner, planning } = await plannedUntilFrozen(productCsv(20), {}, { afterAddBulks: 1 });
    await endedWithEveryItem(open, runId);
    const ended = (await open.plane.runs.getMeta(runId)) as RunMeta;
    planner.thaw();
    const outcome = await planning;
    // Before: startRun resolved as if the run were planned (items 20), past the fleet's total.
    expect(outcome).toBeInstanceOf(BunchError);
    expect((outcome as BunchError).code).toBe('E_PLANNER_GONE');
    const after = (await open.plane.runs.getMeta(runId)) as RunMeta;
    expect([after.status, after.total, after.planned, after.extra.planningError]).toEqual([ended.status, ended.total, true, ended.extra.planningError]);
  });

  for (const before of ['setStatus', 'holdPlannerLease'] as const) {
    it(`gone before its first lease renewal (at ${before}): still ended, and off the planning list`, async () => {
      const { open, runId } = await plannedUntilFrozen(productCsv(5), {}, { before });
      // Before: "alive" for good (no lease, or status `planning`), listed forever.
      const { meta } = await endedWithEveryItem(open, runId);
      expect([meta.total, meta.terminal]).toEqual([0, 0]);
    });
  }

  /** A process that takes a job off a queue and fails it for good, then dies: nobody's `failed` handler records it. */
  async function failedByADyingProcess(open: BunchStack, queueName: string): Promise<{ fail: () => Promise<string> }> {
    const rogue = new Worker(queueName, null, { connection: { url: open.redis.url } as never, prefix: open.prefix, autorun: false });
    const job = await rogue.getNextJob('rogue');
    expect(job).toBeDefined();
    return {
      async fail() {
        await job!.moveToFailed(new UnrecoverableError('the process holding this job died'), 'rogue');
        await rogue.close(true);
        return job!.id as string;
      },
    };
  }

  it('an item whose job BullMQ failed in a process that died is recorded before the run is settled', async () => {
    const { open, runId, planner } = await plannedUntilFrozen(productCsv(3), {}, { afterAddBulks: 1 }, { fleetLater: true });
    for (let tries = 0; tries < 300 && !planner.isFrozen(); tries += 1) await new Promise((resolve) => setTimeout(resolve, 10));
    const held = await failedByADyingProcess(open, open.plane.queues.generate.name);
    await open.startWorkers({ givenUpSweepMs: 200, givenUpSweepGraceMs: 400 });
    // The fleet took the run over and recorded the two other items cancelled; then the job fails.
    for (let tries = 0; tries < 300; tries += 1) {
      const meta = await open.plane.runs.getMeta(runId);
      if (meta?.terminal === 2 && meta.stop === 'E_PLANNER_GONE') break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const failedId = await held.fail();
    // Watched closely until it ends (the settle and the sweep's record come within milliseconds).
    for (let tries = 0; tries < 600 && (await open.plane.runs.getMeta(runId))?.status !== 'aborted'; tries += 1) await new Promise((resolve) => setTimeout(resolve, 5));
    const { meta, items } = await endedWithEveryItem(open, runId);
    // Before: settled at 2 in the same sweep pass that then recorded the failed job's item (lost from the manifest).
    expect([meta.total, meta.terminal]).toEqual([3, 3]);
    const index = Number(failedId.split('.').pop());
    expect(items.find((line) => line.index === index)).toMatchObject({ status: 'failed', errorCode: 'E_INTERNAL' });
  });

  it('a run whose feed job BullMQ failed for good is still ended, its waiting items recorded', async () => {
    const { open, runId, planner } = await plannedUntilFrozen(productCsv(60), { sync: { queueWindow: 20 } }, { before: 'markPlanned' }, { fleetLater: true });
    for (let tries = 0; tries < 300 && !planner.isFrozen(); tries += 1) await new Promise((resolve) => setTimeout(resolve, 10));
    const feed = await failedByADyingProcess(open, open.plane.queues.finalize.name);
    await feed.fail();
    await open.startWorkers({ givenUpSweepMs: 200, givenUpSweepGraceMs: 300 });
    // Before: `running` for good (asking for the feed again is a no-op while its failed job is kept).
    const { meta } = await endedWithEveryItem(open, runId);
    expect([meta.total, meta.terminal]).toEqual([60, 60]);
  });
});
