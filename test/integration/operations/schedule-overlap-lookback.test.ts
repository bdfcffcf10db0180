import { randomUUID } from 'node:crypto';
import { Worker, type Job } from 'bullmq';
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

describe('overlap skip on a busy fleet', () => {
  it('still sees the job\'s active run after 50 runs of other jobs started', async () => {
    stack = await startBunchStack();
    const nightly = await stack.writeJob({ catalogCsv: productCsv(2) });
    const active = await stack.start(nightly); // still running (no workers)
    // The same Redis serves other jobs: 50 runs of them start while the nightly run goes on.
    const other = await stack.writeJob({ catalogCsv: productCsv(1) });
    for (let i = 0; i < 50; i += 1) await stack.start(other);
    expect((await stack.plane.runs.getMeta(active.runId))?.status).toBe('running');

    const queue = openScheduleQueue(stack.plane.redis, stack.prefix);
    cleanups.push(() => queue.close());
    await upsertSchedule(queue, { name: 'nightly', jobSource: nightly, everyMs: 3600_000, overlap: 'skip' }); // fires at once
    const connection = createRedisConnection(stack.redis.url, 'worker');
    const manual = new Worker<ScheduledRunData>(SCHEDULE_QUEUE, null, { connection, prefix: stack.prefix });
    cleanups.push(async () => { await manual.close(true); connection.disconnect(); });
    const token = randomUUID();
    const job = (await manual.getNextJob(token)) as Job<ScheduledRunData>;
    const outcome = await fireSchedule(job, token, {
      redis: stack.plane.redis, prefix: stack.prefix, runs: stack.plane.runs, queues: stack.plane.queues,
      openStore: (url) => openObjectStore(url), logger: silentLogger(),
    });
    const [firing] = await readFirings(stack.plane.redis, stack.prefix, 'nightly', 1);
    // Before: a second run of the job started — only the newest 50 runs of any job were looked at.
    expect([outcome, firing?.outcome]).toEqual(['skipped', 'skipped']);
  });
});
