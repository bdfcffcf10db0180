import { afterEach, describe, expect, it } from 'vitest';
import { finalizeJobId } from '../../../src/lanes/sync/generate-job-data.js';
import { productCsv, startBunchStack, type BunchStack } from '../../helpers/bunch-stack.js';

/**
 * A finalize job whose run another finalizer is finalizing (the lock is held: BullMQ redelivered
 * the job while its first delivery runs on) waits and looks again: it is delayed, not failed, and
 * uses no attempt. Once the lock is gone it finalizes the run.
 */
let stack: BunchStack | undefined;
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

describe('the finalize worker while another finalizer holds the run', () => {
  it('delays its job without using an attempt, then finalizes the run', async () => {
    stack = await startBunchStack();
    const open = stack;
    const jobFile = await open.writeJob({ catalogCsv: productCsv(3), job: { lane: 'sync' } });
    const started = await open.start(jobFile);
    const lockKey = `${open.prefix}:run:{${started.runId}}:finalize-lock`;
    // Another finalizer holds the run when its items are all done.
    await open.plane.redis.set(lockKey, 'another-finalizer', 'PX', 60_000);
    await open.startWorkers();
    const queue = open.plane.queues.finalize;
    const deadline = Date.now() + 20_000;
    let state = '';
    while (Date.now() < deadline && state !== 'delayed') {
      state = (await (await queue.getJob(finalizeJobId(started.runId)))?.getState()) ?? '';
      if (state !== 'delayed') await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(state).toBe('delayed');
    const waiting = await queue.getJob(finalizeJobId(started.runId));
    expect(waiting?.attemptsMade).toBe(0);
    expect((await open.plane.runs.getControl(started.runId)).status).toBe('running');

    // The other finalizer is gone: the job, looking again, finalizes the run.
    await open.plane.redis.del(lockKey);
    await waiting?.promote();
    const until = Date.now() + 20_000;
    let status: string | undefined;
    while (Date.now() < until && status !== 'succeeded') {
      status = (await open.plane.runs.getControl(started.runId)).status;
      if (status !== 'succeeded') await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(status).toBe('succeeded');
  });
});
