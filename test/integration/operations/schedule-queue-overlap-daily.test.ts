/**
 * A daily schedule with `--overlap queue`: its firing is made when the previous one starts, a
 * day before it is due; the 12 h it may wait behind an active run count from when it is due.
 */
import { randomUUID } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { DelayedError, Worker, type Job } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/logging/create-logger.js';
import { createRedisConnection } from '../../../src/redis/redis-connection.js';
import { fireSchedule } from '../../../src/schedules/fire-schedule.js';
import { openScheduleQueue, readFirings, SCHEDULE_QUEUE, upsertSchedule, type ScheduledRunData } from '../../../src/schedules/schedule-queue.js';
import { openObjectStore } from '../../../src/storage/open-object-store.js';
import { productCsv, startBunchStack, type BunchStack } from '../../helpers/bunch-stack.js';

let stack: BunchStack | undefined;
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const undo of cleanups.splice(0).reverse()) await undo().catch(() => undefined);
  await stack?.stop();
  stack = undefined;
});

/**
 * An hourly `--overlap queue` schedule of the job and a worker that takes its firings by hand
 * (an `every` schedule fires at once; taking that firing makes the next one, an hour away).
 */
async function hourlyQueueSchedule(open: BunchStack, jobFile: string) {
  const queue = openScheduleQueue(open.plane.redis, open.prefix);
  cleanups.push(() => queue.close());
  await upsertSchedule(queue, { name: 'hourly', jobSource: jobFile, everyMs: 3600_000, overlap: 'queue' });
  const connection = createRedisConnection(open.redis.url, 'worker');
  const manual = new Worker<ScheduledRunData>(SCHEDULE_QUEUE, null, { connection, prefix: open.prefix });
  cleanups.push(async () => {
    await manual.close(true);
    connection.disconnect();
  });
  const deps = {
    redis: open.plane.redis,
    prefix: open.prefix,
    runs: open.plane.runs,
    queues: open.plane.queues,
    openStore: (url: string) => openObjectStore(url),
    logger: silentLogger(),
    queueRecheckMs: 60_000,
  };
  return { queue, manual, deps };
}

describe('overlap queue on a daily schedule', () => {
  it('queues the firing behind the active run instead of skipping it at once', async () => {
    stack = await startBunchStack();
    const jobFile = await stack.writeJob({ catalogCsv: productCsv(2) });
    // The previous night's run is still going (no workers: it stays running).
    const active = await stack.start(jobFile);
    expect((await stack.plane.runs.getMeta(active.runId))?.status).toBe('running');

    const queue = openScheduleQueue(stack.plane.redis, stack.prefix);
    cleanups.push(() => queue.close());
    await upsertSchedule(queue, { name: 'nightly', jobSource: jobFile, cron: '0 0 2 * * *', tz: 'UTC', overlap: 'queue' });
    const [pending] = await queue.getDelayed();
    expect(pending?.repeatJobKey).toBe('nightly');
    // BullMQ creates a scheduler's next job when the current one starts (job-scheduler.ts
    // getNextJobOpts: timestamp = now, delay = until the slot): a daily job is created ~24 h
    // before it is due. Make this one look like that, then let it come due now.
    const prefixKey = `${stack.prefix}:${SCHEDULE_QUEUE}:${pending!.id}`;
    await stack.plane.redis.hset(prefixKey, 'timestamp', String(Date.now() - 24 * 3600_000 + 5000));
    await pending!.promote();

    const connection = createRedisConnection(stack.redis.url, 'worker');
    const manual = new Worker<ScheduledRunData>(SCHEDULE_QUEUE, null, { connection, prefix: stack.prefix });
    cleanups.push(async () => { await manual.close(true); connection.disconnect(); });
    const token = randomUUID();
    const job = (await manual.getNextJob(token)) as Job<ScheduledRunData>;
    expect(job.id).toBe(pending!.id);

    const outcome = await fireSchedule(job, token, {
      redis: stack.plane.redis,
      prefix: stack.prefix,
      runs: stack.plane.runs,
      queues: stack.plane.queues,
      openStore: (url) => openObjectStore(url),
      logger: silentLogger(),
      queueRecheckMs: 200,
    }).catch((error: Error) => `threw ${error.name}`);

    const [firing] = await readFirings(stack.plane.redis, stack.prefix, 'nightly', 1);
    // Fired on time, first look at the active run: `queue` must wait for it (up to 12 h).
    // Before: the wait was measured from job.timestamp (when the job was made, ~24 h earlier) → skipped.
    expect(firing?.outcome).toBe('queued');
    expect(outcome).toBe('threw DelayedError');
  });

  it('(control) BullMQ stamps a scheduler job with the time it was created, not the slot it fires for', async () => {
    stack = await startBunchStack();
    const jobFile = await stack.writeJob({ catalogCsv: productCsv(1) });
    const queue = openScheduleQueue(stack.plane.redis, stack.prefix);
    cleanups.push(() => queue.close());
    await upsertSchedule(queue, { name: 'every13h', jobSource: jobFile, everyMs: 13 * 3600_000, overlap: 'queue' });
    const connection = createRedisConnection(stack.redis.url, 'worker');
    const manual = new Worker<ScheduledRunData>(SCHEDULE_QUEUE, null, { connection, prefix: stack.prefix });
    cleanups.push(async () => { await manual.close(true); connection.disconnect(); });
    const first = (await manual.getNextJob(randomUUID())) as Job<ScheduledRunData>; // an `every` scheduler fires at once
    expect(first.repeatJobKey).toBe('every13h');
    const [next] = await queue.getDelayed();
    // The next firing, due in ~13 h, already carries timestamp = now: at its slot fire-schedule.ts
    // computes waitedMs = Date.now() - job.timestamp ≈ 13 h > QUEUE_WAIT_LIMIT_MS (12 h).
    expect(Math.abs(next!.timestamp - Date.now())).toBeLessThan(5000);
    expect(next!.delay).toBeGreaterThan(12 * 3600_000);
  });
  it('lets one firing of a schedule wait at a time: the next tick is skipped, naming the waiting one', async () => {
    stack = await startBunchStack();
    const jobFile = await stack.writeJob({ catalogCsv: productCsv(2) });
    const active = await stack.start(jobFile);
    const { queue, manual, deps } = await hourlyQueueSchedule(stack, jobFile);
    const firstToken = randomUUID();
    const first = (await manual.getNextJob(firstToken)) as Job<ScheduledRunData>;
    await expect(fireSchedule(first, firstToken, deps)).rejects.toBeInstanceOf(DelayedError);

    // The next tick comes due while the run still goes and the first firing still waits.
    const next = (await queue.getDelayed()).find((job) => job.id !== first.id);
    await next!.promote();
    const nextToken = randomUUID();
    const second = (await manual.getNextJob(nextToken)) as Job<ScheduledRunData>;
    expect(second.id).toBe(next!.id);
    // Before: queued too — and each tick of a long run started one more run back to back after it.
    expect(await fireSchedule(second, nextToken, deps)).toBe('skipped');
    const firings = await readFirings(stack.plane.redis, stack.prefix, 'hourly', 5);
    expect(firings.map((firing) => [firing.outcome, firing.reason])).toEqual([
      ['skipped', `firing ${first.id} is already queued behind run ${active.runId} of ${(await stack.plane.runs.getMeta(active.runId))?.config.jobName}`],
      ['queued', `run ${active.runId} of ${(await stack.plane.runs.getMeta(active.runId))?.config.jobName} is still active`],
    ]);
  });

  it('a waiting firing whose delivery failed and is retried does not wait beside a tick that queued meanwhile', async () => {
    stack = await startBunchStack();
    const jobFile = await stack.writeJob({ catalogCsv: productCsv(2) });
    const active = await stack.start(jobFile);
    const jobName = (await stack.plane.runs.getMeta(active.runId))!.config.jobName;
    const { queue, manual, deps } = await hourlyQueueSchedule(stack, jobFile);
    const firstToken = randomUUID();
    const first = (await manual.getNextJob(firstToken)) as Job<ScheduledRunData>;
    await expect(fireSchedule(first, firstToken, deps)).rejects.toBeInstanceOf(DelayedError);

    // Its next look fails (the job file is being rewritten): the delivery throws, BullMQ will retry it.
    const good = await readFile(jobFile, 'utf8');
    await writeFile(jobFile, 'name: [unclosed\n');
    await first.promote();
    const again = (await manual.getNextJob(firstToken)) as Job<ScheduledRunData>;
    expect(again.id).toBe(first.id);
    await expect(fireSchedule(again, firstToken, deps)).rejects.toMatchObject({ code: 'E_JOB_FILE' });
    await writeFile(jobFile, good);

    // Meanwhile the next tick comes due and queues (the failed delivery had given the seat up).
    const next = (await queue.getDelayed()).find((job) => job.id !== first.id);
    await next!.promote();
    const nextToken = randomUUID();
    const second = (await manual.getNextJob(nextToken)) as Job<ScheduledRunData>;
    await expect(fireSchedule(second, nextToken, deps)).rejects.toBeInstanceOf(DelayedError);

    // The retried delivery of the first firing (still active under its token) must not wait as well.
    // Before: it skipped the seat because it had queued once, and two firings waited for the run.
    expect(await fireSchedule(again, firstToken, deps)).toBe('skipped');
    const [latest] = await readFirings(stack.plane.redis, stack.prefix, 'hourly', 1);
    expect([latest?.outcome, latest?.reason]).toEqual(['skipped', `firing ${second.id} is already queued behind run ${active.runId} of ${jobName}`]);
  });
});
