import { afterEach, describe, expect, it } from 'vitest';
import { openScheduleQueue, readFirings, removeSchedule, upsertSchedule } from '../../../src/schedules/schedule-queue.js';
import { productCsv, startBunchStack, type BunchStack } from '../../helpers/bunch-stack.js';
import { waitFor } from '../../helpers/spawn-worker.js';

let stack: BunchStack | undefined;
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

describe('schedule remove', () => {
  it('stops a firing that is queued behind the active run (overlap queue) from starting a run later', async () => {
    stack = await startBunchStack({ concurrency: 1 });
    await stack.startWorkers({ scheduleQueueRecheckMs: 200 });
    const jobFile = await stack.writeJob({ catalogCsv: productCsv(3, (i) => `Product ${i} [[emu:latency=1500ms]]`) });
    const active = await stack.start(jobFile); // ≈ 4.5 s of work

    const queue = openScheduleQueue(stack.plane.redis, stack.prefix);
    try {
      // An `every` scheduler fires at once; its next firing is an hour away.
      await upsertSchedule(queue, { name: 'hourly', jobSource: jobFile, everyMs: 3600_000, overlap: 'queue' });
      await waitFor(async () => (await readFirings(stack!.plane.redis, stack!.prefix, 'hourly', 50)).some((f) => f.outcome === 'queued'), 20_000, 'a queued firing');
      expect(await removeSchedule(queue, 'hourly')).toBe(true);
      expect(await queue.getJobSchedulers()).toEqual([]);
      const removedAt = Date.now();

      await stack.waitForRun(active.runId, 30_000);
      await new Promise((resolve) => setTimeout(resolve, 3000));
      const firings = await readFirings(stack.plane.redis, stack.prefix, 'hourly', 50);
      const afterRemove = firings.filter((f) => Date.parse(f.at) > removedAt);
      // The queued firing wakes once more, finds its schedule gone and starts nothing (before: it
      // started a run when the active one ended — removeJobScheduler removes only the next firing).
      expect(afterRemove.map((f) => [f.outcome, f.reason])).toEqual([['skipped', 'the schedule was removed']]);
      expect(await stack.plane.runs.listRuns(10)).toEqual([active.runId]);
    } finally {
      await queue.close();
    }
  });
});
