import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { describeRun } from '../../../src/cli/describe-run.js';
import { plannerGone, type RunMeta } from '../../../src/runs/run-store.js';
import { planningRunsKey } from '../../../src/runs/run-keys.js';
import { readFirings } from '../../../src/schedules/schedule-queue.js';
import { productCsv, startBunchStack, type BunchStack } from '../../helpers/bunch-stack.js';
import { runCli } from '../../helpers/run-cli.js';
import { waitFor } from '../../helpers/spawn-worker.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

let stack: BunchStack | undefined;
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

/**
 * A planner killed mid-planning (`bunch run` SIGKILLed, a worker firing a schedule) leaves its run
 * `running` and never planned: its planner cannot finish it. It must not count as the job's active
 * run, or every later firing of the job's schedule is skipped for good (the nightly refresh
 * silently stops). The planner renews a lease while it plans; once it lapses, the run is told
 * apart from one still being planned, and the worker fleet ends it (stopped `E_PLANNER_GONE`) with
 * the items its planner had handed out.
 */
describe('a planner that died mid-planning', () => {
  it('stops counting as its job\'s active run once its lease lapses, and status says so', async () => {
    stack = await startBunchStack({ concurrency: 2 });
    const open = stack;
    const env = { REDIS_URL: open.redis.url, BUNCH_PREFIX: open.prefix };
    const jobFile = await open.writeJob({ catalogCsv: productCsv(60_000), job: { sync: { queueWindow: 200 } } });
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'test/helpers/plan-run-child.ts'), jobFile, '1000'], {
      cwd: repoRoot,
      env: { ...process.env, ...env },
      stdio: 'ignore',
    });
    let orphan: string | undefined;
    let planning: RunMeta | undefined;
    await waitFor(async () => {
      const [id] = await open.plane.runs.listRuns(1);
      const meta = id ? await open.plane.runs.getMeta(id) : undefined;
      if (meta && meta.status === 'running' && !meta.planned) {
        orphan = id;
        planning = meta;
      }
      return orphan !== undefined;
    }, 30_000, 'the run being planned');
    // While its planner lives, the run is being planned, not gone.
    expect(planning?.plannerUntil).toBeGreaterThan(Date.now() - 1000);
    expect(describeRun(planning as RunMeta)).toContain('(still planning)');
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));

    await waitFor(async () => plannerGone((await open.plane.runs.getMeta(orphan as string)) as RunMeta, Date.now()), 10_000, 'the lease to lapse');
    const gone = (await open.plane.runs.getMeta(orphan as string)) as RunMeta;
    expect(gone).toMatchObject({ status: 'running', planned: false });
    expect(describeRun(gone)).toContain('(planning stopped: its planner is gone since ');

    await open.startWorkers();
    expect((await runCli(['schedule', 'add', jobFile, '--every', '1s', '--name', 'nightly'], env)).code).toBe(0);
    // Before: every firing skipped, "run <orphan> of <job> is still active".
    // A firing plans the whole 60,000-row catalog before it counts as started: the whole test
    // takes ≈ 14 s alone, and this wait ran past 20 s once on a machine busy with other tests.
    await waitFor(async () => (await readFirings(open.plane.redis, open.prefix, 'nightly', 50)).some((firing) => firing.outcome === 'started'), 60_000, 'a started firing');
    await runCli(['schedule', 'remove', 'nightly'], env);
    const firings = await readFirings(open.plane.redis, open.prefix, 'nightly', 50);
    expect(firings.filter((firing) => firing.outcome === 'skipped' && firing.reason?.includes(orphan as string))).toEqual([]);
  }, 120_000);

  it('is ended by the fleet once its lease lapses: stopped E_PLANNER_GONE, every item it handed out recorded, then finalized', async () => {
    stack = await startBunchStack({ concurrency: 2 });
    const open = stack;
    const env = { REDIS_URL: open.redis.url, BUNCH_PREFIX: open.prefix };
    // 1,200 rows without a key up front (rejected; the first 1,000 lines are written as a part while
    // planning goes on), then more good rows than can be planned before the kill.
    const good = productCsv(60_000).split('\n');
    const bad = Array.from({ length: 1200 }, (_, i) => `,"Keyless ${i}"`);
    const jobFile = await open.writeJob({ catalogCsv: [good[0], ...bad, ...good.slice(1)].join('\n'), job: { sync: { queueWindow: 300 } } });
    // The fleet runs while the planner plans: some items are made before it dies.
    await open.startWorkers({ givenUpSweepMs: 300, givenUpSweepGraceMs: 300 });
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'test/helpers/plan-run-child.ts'), jobFile, '1000'], {
      cwd: repoRoot,
      env: { ...process.env, ...env },
      stdio: 'ignore',
    });
    let orphan: string | undefined;
    await waitFor(async () => {
      const [id] = await open.plane.runs.listRuns(1);
      const meta = id ? await open.plane.runs.getMeta(id) : undefined;
      if (meta && !meta.planned && meta.terminal >= 20) orphan = id;
      return orphan !== undefined;
    }, 30_000, 'items of the run being planned recorded');
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    const runId = orphan as string;
    expect(await open.plane.redis.sismember(planningRunsKey(open.prefix), runId)).toBe(1);

    // Before: `running` for good, never planned, never finalized.
    const ended = await open.waitForRun(runId, 30_000);
    const handedOut = ended.total as number;
    expect(handedOut).toBeGreaterThanOrEqual(20);
    expect(ended).toMatchObject({ status: 'aborted', stop: 'E_PLANNER_GONE', planned: true, terminal: handedOut, rejected: 1000 });
    expect(ended.extra.planningError).toMatch(/^planning stopped with its planner, whose lease lapsed before /);
    expect(await open.plane.redis.sismember(planningRunsKey(open.prefix), runId)).toBe(0);
    const lines = await open.readManifest(open.storeFor(`file://${path.join(open.dir.path, 'out')}`), runId);
    const items = lines.filter((line) => line.status !== 'rejected');
    expect(items).toHaveLength(handedOut);
    expect(new Set(items.map((line) => line.key)).size).toBe(handedOut);
    expect(lines.filter((line) => line.status === 'rejected')).toHaveLength(1000);
    const made = items.filter((line) => line.status === 'succeeded').length;
    const cancelled = items.filter((line) => line.status === 'cancelled');
    expect(made).toBeGreaterThanOrEqual(20);
    expect(made + cancelled.length).toBe(handedOut);
    for (const line of cancelled) expect(line).toMatchObject({ errorCode: 'E_PLANNER_GONE' });
    const summary = await open.readSummary(open.storeFor(`file://${path.join(open.dir.path, 'out')}`), runId);
    expect(summary).toMatchObject({ status: 'aborted', items: handedOut, rejectedRows: 1000 });
  }, 120_000);
});
