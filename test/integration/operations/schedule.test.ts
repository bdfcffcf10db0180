import { afterEach, describe, expect, it } from 'vitest';
import { readFirings, type ScheduleFiring, type ScheduleInfo } from '../../../src/schedules/schedule-queue.js';
import { productCsv, startBunchStack, type BunchStack } from '../../helpers/bunch-stack.js';
import { runCli } from '../../helpers/run-cli.js';
import { waitFor } from '../../helpers/spawn-worker.js';

let stack: BunchStack | undefined;
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

type Listed = ScheduleInfo & { last: ScheduleFiring[] };

/**
 * The schedule's whole firing log (up to 50, newest first). Not `schedule list`, which shows the
 * last 5: on a slow machine a run outlasts several 1 s firings, and five skipped or queued firings
 * in a row push the earlier start out of that window.
 */
function firingLog(running: BunchStack, name: string): Promise<ScheduleFiring[]> {
  return readFirings(running.plane.redis, running.prefix, name, 50);
}

/** `schedule list --json` shows the schedule with its newest firings, as the log has them. */
async function expectListedFromLog(env: Record<string, string>, name: string): Promise<void> {
  const listed = (JSON.parse((await runCli(['schedule', 'list', '--json'], env)).stdout) as Listed[]).find((entry) => entry.name === name);
  const log = (await firingLog(stack!, name)).map((firing) => JSON.stringify(firing));
  expect(listed?.last.length).toBeGreaterThan(0);
  expect(listed?.last.length).toBeLessThanOrEqual(5);
  // Firings may be added between the two reads: each listed one is in the log read after it.
  for (const firing of listed?.last ?? []) expect(log).toContain(JSON.stringify(firing));
}

describe('bunch schedule', () => {
  it('the worker fleet fires runs on a schedule and skips a firing while the previous run is still active', async () => {
    stack = await startBunchStack({ concurrency: 2 });
    await stack.startWorkers();
    const env = { REDIS_URL: stack.redis.url, BUNCH_PREFIX: stack.prefix };
    // Each run takes ≈ 2 s (6 items × 600 ms over 2 slots): longer than the 1 s interval.
    const jobFile = await stack.writeJob({ catalogCsv: productCsv(6, (i) => `Product ${i} [[emu:latency=600ms]]`) });

    const added = await runCli(['schedule', 'add', jobFile, '--every', '1s', '--name', 'nightly', '--json'], env);
    expect(added.stderr).toBe('');
    expect(JSON.parse(added.stdout)).toMatchObject({ name: 'nightly', everyMs: 1000, overlap: 'skip', jobSource: jobFile });

    let last: ScheduleFiring[] = [];
    await waitFor(async () => {
      last = await firingLog(stack!, 'nightly');
      return last.filter((f) => f.outcome === 'started').length >= 2 && last.some((f) => f.outcome === 'skipped');
    }, 40_000, 'two started runs and a skipped firing');
    await expectListedFromLog(env, 'nightly');
    const removed = await runCli(['schedule', 'remove', 'nightly'], env);
    expect([removed.code, removed.stdout.trim()]).toEqual([0, 'schedule nightly removed']);

    const skipped = last.find((f) => f.outcome === 'skipped')!;
    expect(skipped.reason).toMatch(/^run \S+ of job-\w+ is still active$/);
    const runIds = last.filter((f) => f.outcome === 'started').map((f) => f.runId!);
    // The runs never overlapped: each started after the one before it ended.
    const metas = await Promise.all(runIds.map(async (id) => stack!.waitForRun(id, 30_000)));
    const sorted = metas.sort((a, b) => Date.parse(a.startedAt) - Date.parse(b.startedAt));
    for (let i = 1; i < sorted.length; i += 1) expect(Date.parse(sorted[i]!.startedAt)).toBeGreaterThanOrEqual(Date.parse(sorted[i - 1]!.finishedAt!));
    expect(sorted.every((meta) => meta.status === 'succeeded' && meta.counts.succeeded + meta.counts.skipped === 6)).toBe(true);
  });

  it('with overlap queue, a firing waits for the active run to end and then starts its own', async () => {
    stack = await startBunchStack({ concurrency: 2 });
    await stack.startWorkers({ scheduleQueueRecheckMs: 200 });
    const env = { REDIS_URL: stack.redis.url, BUNCH_PREFIX: stack.prefix };
    const jobFile = await stack.writeJob({ catalogCsv: productCsv(6, (i) => `Product ${i} [[emu:latency=600ms]]`) });
    const added = await runCli(['schedule', 'add', jobFile, '--every', '1s', '--name', 'queued', '--overlap', 'queue'], env);
    expect(added.code).toBe(0);
    let last: ScheduleFiring[] = [];
    await waitFor(async () => {
      last = await firingLog(stack!, 'queued');
      return last.some((f) => f.outcome === 'queued') && last.filter((f) => f.outcome === 'started').length >= 2;
    }, 40_000, 'a queued firing and two started runs');
    await expectListedFromLog(env, 'queued');
    await runCli(['schedule', 'remove', 'queued'], env);
    // Ticks while a firing already waits are skipped, naming it: one firing waits per schedule.
    const skippedReasons = last.filter((f) => f.outcome === 'skipped').map((f) => f.reason ?? '');
    expect(skippedReasons.filter((reason) => !/^firing \S+ is already queued behind run \S+ of /.test(reason))).toEqual([]);
    const metas = await Promise.all(last.filter((f) => f.outcome === 'started').map((f) => stack!.waitForRun(f.runId!, 30_000)));
    const sorted = metas.sort((a, b) => Date.parse(a.startedAt) - Date.parse(b.startedAt));
    for (let i = 1; i < sorted.length; i += 1) expect(Date.parse(sorted[i]!.startedAt)).toBeGreaterThanOrEqual(Date.parse(sorted[i - 1]!.finishedAt!));
  });

  it('refuses a bad pattern or policy with E_CONFIG (exit 2), and an unknown name on remove', async () => {
    stack = await startBunchStack();
    const env = { REDIS_URL: stack.redis.url, BUNCH_PREFIX: stack.prefix };
    const jobFile = await stack.writeJob({ catalogCsv: productCsv(1) });
    const badCron = await runCli(['schedule', 'add', jobFile, '--cron', 'every night'], env);
    expect(badCron.code).toBe(2);
    expect(badCron.stderr).toMatch(/^bunch: E_CONFIG: schedule "job-\w+" is not usable: /);
    const badPolicy = await runCli(['schedule', 'add', jobFile, '--cron', '0 2 * * *', '--overlap', 'maybe'], env);
    expect([badPolicy.code, badPolicy.stderr.trim()]).toEqual([2, 'bunch: E_CONFIG: --overlap must be skip or queue, not "maybe"']);
    const good = await runCli(['schedule', 'add', jobFile, '--cron', '0 2 * * *', '--tz', 'Europe/Berlin', '--name', 'berlin', '--json'], env);
    expect(JSON.parse(good.stdout)).toMatchObject({ name: 'berlin', cron: '0 2 * * *', tz: 'Europe/Berlin' });
    const next = new Date(JSON.parse(good.stdout).next as string);
    // 02:00 on Berlin's clock, whatever the season.
    expect(new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Berlin', hour: '2-digit', minute: '2-digit' }).format(next)).toBe('02:00');
    const missing = await runCli(['schedule', 'remove', 'nope'], env);
    expect([missing.code, missing.stderr.trim()]).toEqual([2, 'bunch: E_NOT_FOUND: there is no schedule named nope']);
  });
});
