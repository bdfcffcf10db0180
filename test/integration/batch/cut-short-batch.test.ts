import { DelayedError } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { createGeminiClient } from '../../../src/gemini/gemini-client.js';
import { abandonShard, createBatchProcessor } from '../../../src/lanes/batch/batch-processor.js';
import { readShardState } from '../../../src/lanes/batch/shard-state.js';
import { cancelRun } from '../../../src/lanes/cancel-run.js';
import { startBunchStack, type BunchStack } from '../../helpers/bunch-stack.js';
import { deliverUntilDone, paidCalls, plannedBudgetShard, upstreamBatches } from './batch-harness.js';

/**
 * A shard cut short — its run stopped, or past the deadline cutoff — while its batch is still up.
 * A batch it adopted from an earlier run of the same content is that run's too: it is never
 * cancelled (before, cancelling the second run cancelled the first run's batch, whose unserved
 * items then went to the sync lane at full price). A batch it cancelled that does not end (the
 * API accepted the cancel and did not honour it) is waited for a bounded time, with the cancel
 * sent again at most once a minute (before: sent every second, for as long as the batch stayed up).
 */
let stack: BunchStack | undefined;
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

const HOUR = 3600_000;
const MINUTE = 60_000;

/** A first run whose shard created its batch, and a second run of the same job whose shard adopted it. */
async function adoptedBatch(open: BunchStack) {
  const first = await plannedBudgetShard(open);
  await expect(createBatchProcessor(first.deps(first.runs))(first.job, 'first')).rejects.toBeInstanceOf(DelayedError);
  const second = await plannedBudgetShard(open);
  await expect(createBatchProcessor(second.deps(second.runs))(second.job, 'second')).rejects.toBeInstanceOf(DelayedError);
  const firstState = await readShardState(first.runs, first.runId, first.shard);
  const secondState = await readShardState(second.runs, second.runId, second.shard);
  expect(secondState).toMatchObject({ phase: 'submitted', adopted: true, upstream: firstState?.upstream });
  expect(await upstreamBatches(open)).toHaveLength(1);
  return { first, second };
}

describe('a cut-short shard whose batch was adopted from another run', () => {
  it('cancelling the adopting run leaves the batch serving the run that created it', async () => {
    stack = await startBunchStack({ emulator: { profile: { batch: { pendingMs: 0, runningMs: 1500 } } } });
    const { first, second } = await adoptedBatch(stack);

    await cancelRun(stack.plane.runs, stack.plane.queues, second.runId);
    expect(await deliverUntilDone(createBatchProcessor(second.deps(second.runs)), second.job)).toBe('salvaged');

    expect(await readShardState(second.runs, second.runId, second.shard)).toMatchObject({
      phase: 'done',
      cutShort: 'stop',
      outcome: { succeeded: 0, cancelled: 4, spilled: 0 },
    });
    // Before: the batch was cancelled, and the first run spilled what it had not served to sync.
    expect((await upstreamBatches(stack)).map((batch) => batch.state)).not.toContain('BATCH_STATE_CANCELLED');
    expect(await deliverUntilDone(createBatchProcessor(first.deps(first.runs)), first.job)).toBe('collected');
    expect(await readShardState(first.runs, first.runId, first.shard)).toMatchObject({ phase: 'done', outcome: { succeeded: 4, spilled: 0 } });
    expect(await stack.plane.queues.generate.getJobCountByTypes('waiting', 'prioritized', 'delayed')).toBe(0);
    expect(paidCalls(stack)).toEqual({ http: 0, batch: 4 });
    expect(await second.reservedUsd()).toBeCloseTo(0, 9);
    expect(await second.slotsHeld()).toBe(0);
    await first.close();
    await second.close();
  });

  it('past its cutoff, the adopting run moves its items on without cancelling the batch', async () => {
    stack = await startBunchStack({ emulator: { profile: { batch: { pendingMs: 0, runningMs: 1500 } } } });
    const { first, second } = await adoptedBatch(stack);
    const late = { ...second.deps(second.runs), now: () => Date.now() + 2 * HOUR };

    expect(await deliverUntilDone(createBatchProcessor(late), second.job)).toBe('salvaged');

    const state = await readShardState(second.runs, second.runId, second.shard);
    expect(state).toMatchObject({ phase: 'done', cutShort: 'deadline', outcome: { succeeded: 0, spilled: 4 } });
    expect((await upstreamBatches(stack)).map((batch) => batch.state)).not.toContain('BATCH_STATE_CANCELLED');
    expect(await deliverUntilDone(createBatchProcessor(first.deps(first.runs)), first.job)).toBe('collected');
    expect(await readShardState(first.runs, first.runId, first.shard)).toMatchObject({ phase: 'done', outcome: { succeeded: 4, spilled: 0 } });
    // Only the late run's own items were queued for the sync lane.
    expect(await stack.plane.queues.generate.getJobCountByTypes('waiting', 'prioritized', 'delayed')).toBe(4);
    await first.close();
    await second.close();
  });
  it('given up on, the adopting shard moves its items on without cancelling the batch', async () => {
    stack = await startBunchStack({ emulator: { profile: { batch: { pendingMs: 0, runningMs: 1500 } } } });
    const { first, second } = await adoptedBatch(stack);

    await abandonShard(second.deps(second.runs), second.runId, second.shard, 'its deliveries kept dying');

    expect(await readShardState(second.runs, second.runId, second.shard)).toMatchObject({ phase: 'done', outcome: { succeeded: 0, spilled: 4 } });
    // Before: the first run's batch was cancelled with it.
    expect((await upstreamBatches(stack)).map((batch) => batch.state)).not.toContain('BATCH_STATE_CANCELLED');
    expect(await deliverUntilDone(createBatchProcessor(first.deps(first.runs)), first.job)).toBe('collected');
    expect(await readShardState(first.runs, first.runId, first.shard)).toMatchObject({ phase: 'done', outcome: { succeeded: 4, spilled: 0 } });
    await first.close();
    await second.close();
  });
});

describe('a cut-short shard whose cancelled batch does not end', () => {
  /** A shard submitted at `start`, whose client drops every cancel (accepted, never honoured), on a clock the test moves. */
  async function unhonouredCancels(open: BunchStack) {
    const fixture = await plannedBudgetShard(open);
    const real = createGeminiClient({ baseUrl: open.emulator.url, apiKey: open.emulator.apiKey ?? 'unused' });
    let cancels = 0;
    const request: typeof real.request = async (method, path, options) => {
      if (path.endsWith(':cancel')) {
        cancels += 1;
        return {} as never;
      }
      return real.request(method, path, options);
    };
    const client = Object.create(real, { request: { value: request } }) as typeof real;
    const meta = await fixture.runs.getMeta(fixture.runId);
    const createdAt = Date.parse(meta?.config.createdAt as string);
    const clock = { now: Date.now() };
    const processor = createBatchProcessor({ ...fixture.deps(fixture.runs, client), now: () => clock.now });
    await expect(processor(fixture.job, 'first')).rejects.toBeInstanceOf(DelayedError);
    /** One delivery at `at`: whether it ended the job, and the cancels sent so far. */
    const deliverAt = async (at: number): Promise<{ ended: string | undefined; cancels: number }> => {
      clock.now = at;
      try {
        return { ended: await processor(fixture.job, 'later'), cancels };
      } catch (error) {
        if (!(error instanceof DelayedError)) throw error;
        return { ended: undefined, cancels };
      }
    };
    return { ...fixture, createdAt, deliverAt };
  }

  it('a stopped run sends the cancel again once a minute, and stops waiting ten minutes after the first', async () => {
    stack = await startBunchStack({ emulator: { profile: { batch: { pendingMs: 0, runningMs: 600_000 } } } });
    const fixture = await unhonouredCancels(stack);
    const { runId, shard, runs, deliverAt } = fixture;
    await runs.requestStop(runId, 'E_CANCELLED');
    const t0 = Date.now();

    expect(await deliverAt(t0)).toEqual({ ended: undefined, cancels: 1 });
    expect(await deliverAt(t0 + 1000)).toEqual({ ended: undefined, cancels: 1 });
    // Before: a cancel on every delivery (here 2, then 3, ... for as long as the batch stayed up).
    expect(await deliverAt(t0 + 30_000)).toEqual({ ended: undefined, cancels: 1 });
    expect(await deliverAt(t0 + 61_000)).toEqual({ ended: undefined, cancels: 2 });
    expect(await deliverAt(t0 + 9 * MINUTE)).toEqual({ ended: undefined, cancels: 3 });
    expect(await deliverAt(t0 + 10 * MINUTE)).toEqual({ ended: 'salvaged', cancels: 3 });

    const state = await readShardState(runs, runId, shard);
    expect(state).toMatchObject({ phase: 'done', cutShort: 'stop', cancel: { firstAt: t0, lastAt: t0 + 9 * MINUTE, sent: 3 }, outcome: { cancelled: 4, spilled: 0 } });
    expect(state?.error).toBe(`batch ${state?.upstream} was cancelled (3 requests) and had not ended 10 min later`);
    expect(await stack.plane.queues.generate.getJobCountByTypes('waiting', 'prioritized', 'delayed')).toBe(0);
    expect(await fixture.reservedUsd()).toBeCloseTo(0, 9);
    expect(await fixture.slotsHeld()).toBe(0);
    await fixture.close();
  });

  it('past the cutoff, stops waiting after half the margin before the deadline and moves the items on', async () => {
    stack = await startBunchStack({ emulator: { profile: { batch: { pendingMs: 0, runningMs: 600_000 } } } });
    const fixture = await unhonouredCancels(stack);
    const { runId, shard, runs, deliverAt, createdAt } = fixture;
    // A 1 h deadline: the cutoff is 6 min before it, so the cancelled batch is waited for 3 min.
    const cutoff = createdAt + HOUR - 6 * MINUTE;

    expect(await deliverAt(cutoff + 1)).toEqual({ ended: undefined, cancels: 1 });
    expect(await deliverAt(cutoff + 2 * MINUTE)).toEqual({ ended: undefined, cancels: 2 });
    expect(await deliverAt(cutoff + 3 * MINUTE + 1)).toEqual({ ended: 'salvaged', cancels: 2 });

    const state = await readShardState(runs, runId, shard);
    expect(state).toMatchObject({ phase: 'done', cutShort: 'deadline', outcome: { spilled: 4, cancelled: 0 } });
    expect(state?.error).toBe(`batch ${state?.upstream} was cancelled (2 requests) and had not ended 3 min later`);
    expect(await stack.plane.queues.generate.getJobCountByTypes('waiting', 'prioritized', 'delayed')).toBe(4);
    expect(await fixture.reservedUsd()).toBeCloseTo(0, 9);
    await fixture.close();
  });
});
