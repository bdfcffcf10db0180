import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { describeRun } from '../../../src/cli/describe-run.js';
import { plannerGone, type RunMeta } from '../../../src/runs/run-store.js';
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
 * `running` and never planned: it cannot finish by itself. It must not count as the job's active
 * run, or every later firing of the job's schedule is skipped for good (the nightly refresh
 * silently stops). The planner renews a lease while it plans; once it lapses, the run is told
 * apart from one still being planned.
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
    await waitFor(async () => (await readFirings(open.plane.redis, open.prefix, 'nightly', 50)).some((firing) => firing.outcome === 'started'), 20_000, 'a started firing');
    await runCli(['schedule', 'remove', 'nightly'], env);
    const firings = await readFirings(open.plane.redis, open.prefix, 'nightly', 50);
    expect(firings.filter((firing) => firing.outcome === 'skipped' && firing.reason?.includes(orphan as string))).toEqual([]);
  }, 120_000);
});
