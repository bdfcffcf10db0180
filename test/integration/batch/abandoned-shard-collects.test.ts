import { DelayedError } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { BunchError } from '../../../src/errors/bunch-error.js';
import { createGeminiClient } from '../../../src/gemini/gemini-client.js';
import { getBatch } from '../../../src/gemini/batch-api.js';
import { abandonShard, createBatchProcessor } from '../../../src/lanes/batch/batch-processor.js';
import { readShardState } from '../../../src/lanes/batch/shard-state.js';
import { startBunchStack, type BunchStack } from '../../helpers/bunch-stack.js';
import { paidCalls, plannedBudgetShard, upstreamBatches } from './batch-harness.js';

/**
 * A shard given up on (its job failed for good, or the Batch API kept failing past the deadline)
 * whose batch had served items: those answers were billed. They are collected before the shard's
 * other items move on — before, every item went to the sync lane and was paid for again, and the
 * run's spend left out what the batch had cost.
 */
let stack: BunchStack | undefined;
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

/** The shard after its first delivery: reserved, its batch created, waiting to poll. */
async function submittedShard(open: BunchStack) {
  const fixture = await plannedBudgetShard(open);
  const processor = createBatchProcessor(fixture.deps(fixture.runs));
  await expect(processor(fixture.job, 'first')).rejects.toBeInstanceOf(DelayedError);
  const state = await readShardState(fixture.runs, fixture.runId, fixture.shard);
  expect(state).toMatchObject({ phase: 'submitted' });
  const client = createGeminiClient({ baseUrl: open.emulator.url, apiKey: open.emulator.apiKey ?? 'unused' });
  const served = async () => (await getBatch(client, state?.upstream as string)).stats.succeeded;
  return { ...fixture, served };
}

async function until(condition: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within 20 s`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('a shard given up on whose batch served items', () => {
  it('collects a batch that served all its items: nothing moves to the sync lane', async () => {
    stack = await startBunchStack({ emulator: { profile: { batch: { pendingMs: 0, runningMs: 100 } } } });
    const fixture = await submittedShard(stack);
    const { runId, shard, runs } = fixture;
    await until(async () => (await upstreamBatches(stack as BunchStack)).every((batch) => batch.state === 'BATCH_STATE_SUCCEEDED'), 'the batch ends');

    await abandonShard(fixture.deps(runs), runId, shard, 'its deliveries kept dying');

    // Before: succeeded 0, spilled 4 (four sync jobs queued, each paid again).
    expect(await readShardState(runs, runId, shard)).toMatchObject({ phase: 'done', outcome: { succeeded: 4, spilled: 0, failed: 0 } });
    expect(await stack.plane.queues.generate.getJobCountByTypes('waiting', 'prioritized', 'delayed')).toBe(0);
    const meta = await runs.getMeta(runId);
    expect(meta?.counts).toMatchObject({ succeeded: 4 });
    // Each served item was counted at the batch price, and the shard holds nothing any more.
    expect(meta?.costUsd).toBeCloseTo(4 * 0.029, 9);
    expect(await fixture.reservedUsd()).toBeCloseTo(0, 9);
    expect(await fixture.slotsHeld()).toBe(0);
    expect(paidCalls(stack)).toEqual({ http: 0, batch: 4 });
    await fixture.close();
  });

  it('cancels a running batch and collects what it served; the rest moves on', async () => {
    stack = await startBunchStack({ emulator: { profile: { batch: { pendingMs: 0, runningMs: 4000 } } } });
    const fixture = await submittedShard(stack);
    const { runId, shard, runs } = fixture;
    // Items are served evenly across the batch's 4 s: give up once one is served, before all are.
    await until(async () => (await fixture.served()) >= 1, 'an item is served');

    await abandonShard(fixture.deps(runs), runId, shard, 'its deliveries kept dying');

    expect((await upstreamBatches(stack)).map((batch) => batch.state)).toEqual(['BATCH_STATE_CANCELLED']);
    const served = paidCalls(stack).batch;
    expect(served).toBeGreaterThanOrEqual(1);
    expect(served).toBeLessThan(4);
    // Before: succeeded 0 and all 4 spilled, the served ones paid again.
    expect(await readShardState(runs, runId, shard)).toMatchObject({ phase: 'done', outcome: { succeeded: served, spilled: 4 - served } });
    expect(await stack.plane.queues.generate.getJobCountByTypes('waiting', 'prioritized', 'delayed')).toBe(4 - served);
    expect((await runs.getMeta(runId))?.costUsd).toBeCloseTo(served * 0.029, 9);
    expect(await fixture.reservedUsd()).toBeCloseTo(0, 9);
    await fixture.close();
  });

  it('moves every item on as before when the batch cannot be read', async () => {
    stack = await startBunchStack({ emulator: { profile: { batch: { pendingMs: 0, runningMs: 100 } } } });
    const fixture = await submittedShard(stack);
    const { runId, shard, runs } = fixture;
    await until(async () => (await upstreamBatches(stack as BunchStack)).every((batch) => batch.state === 'BATCH_STATE_SUCCEEDED'), 'the batch ends');
    const real = createGeminiClient({ baseUrl: stack.emulator.url, apiKey: stack.emulator.apiKey ?? 'unused' });
    // The Batch API is down (why the shard was given up): every call fails.
    const down = Object.create(real, {
      request: { value: async () => Promise.reject(new BunchError('E_UPSTREAM', 'the Batch API answered 503', { retryable: true })) },
    }) as typeof real;

    await abandonShard(fixture.deps(runs, down), runId, shard, 'the Batch API kept failing');

    expect(await readShardState(runs, runId, shard)).toMatchObject({ phase: 'done', outcome: { succeeded: 0, spilled: 4 } });
    expect(await stack.plane.queues.generate.getJobCountByTypes('waiting', 'prioritized', 'delayed')).toBe(4);
    expect(await fixture.reservedUsd()).toBeCloseTo(0, 9);
    await fixture.close();
  });
});
