import { DelayedError } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { abandonShard, createBatchProcessor } from '../../../src/lanes/batch/batch-processor.js';
import { readShardState } from '../../../src/lanes/batch/shard-state.js';
import type { RunStore } from '../../../src/runs/run-store.js';
import { startBunchStack, type BunchStack } from '../../helpers/bunch-stack.js';
import { plannedBudgetShard, upstreamBatches } from './batch-harness.js';

/**
 * A batch shard reserves its items' budget in its `planned` step. The reservation and the state
 * that holds it are written together, and a shard is reserved once: two deliveries of one shard job
 * (BullMQ redelivers a job it thinks stalled while the first runs on) must not reserve twice, and a
 * salvager that read the shard before its reservation must still give it back. Either slip leaves
 * budget reserved that nobody gives back: the run stops with a false E_BUDGET.
 */
let stack: BunchStack | undefined;
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

/** 4 items at the batch price of the emulator's pricing: what one shard reserves. */
const SHARD_USD = 0.116;

/** A RunStore whose shard-state reads wait at `gate` (after reading), so two deliveries read before either writes. */
function readingAt(runs: RunStore, gate: Promise<void>, arrived: () => void): RunStore {
  const batches = Object.create(runs.batches, {
    getState: {
      value: async (runId: string, shard: string) => {
        const text = await runs.batches.getState(runId, shard);
        arrived();
        await gate;
        return text;
      },
    },
  }) as RunStore['batches'];
  return Object.create(runs, { batches: { value: batches } }) as RunStore;
}

describe('a batch shard reserves its budget once', () => {
  it('two deliveries of one planned shard at once reserve it once and create one batch; settling gives it all back', async () => {
    stack = await startBunchStack({ emulator: { profile: { batch: { pendingMs: 60_000, runningMs: 60_000 } } } });
    const { runId, shard, runs, deps, job, reservedUsd, close } = await plannedBudgetShard(stack);
    let arrivals = 0;
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const arrived = () => {
      arrivals += 1;
      if (arrivals === 2) open();
    };
    const first = createBatchProcessor(deps(readingAt(runs, gate, arrived)))(job, 'first');
    const second = createBatchProcessor(deps(readingAt(runs, gate, arrived)))(job, 'second');
    const outcomes = await Promise.allSettled([first, second]);
    for (const outcome of outcomes) expect(outcome).toMatchObject({ status: 'rejected', reason: expect.any(DelayedError) });

    // One shard, one reservation, one batch: the second delivery waits while the first creates it.
    expect(await reservedUsd()).toBeCloseTo(SHARD_USD, 9);
    expect(await upstreamBatches(stack)).toHaveLength(1);
    expect(await readShardState(runs, runId, shard)).toMatchObject({ reservedUsd: SHARD_USD });

    await abandonShard(deps(runs), runId, shard, 'the test gives up');
    expect(await reservedUsd()).toBeCloseTo(0, 9);
    expect(await readShardState(runs, runId, shard)).toMatchObject({ phase: 'done', outcome: { spilled: 4 } });
    expect((await upstreamBatches(stack)).map((batch) => batch.state)).toEqual(['BATCH_STATE_CANCELLED']);
    await close();
  });

  it('a salvager that read the shard before its delivery reserved gives the reservation back, and cancels the batch it never saw', async () => {
    stack = await startBunchStack({ emulator: { profile: { batch: { pendingMs: 60_000, runningMs: 60_000 } } } });
    const { runId, shard, runs, deps, job, reservedUsd, slotsHeld, close } = await plannedBudgetShard(stack);
    // The salvager (a `failed` handler, a sweep) read the shard while it was still `planned`; a
    // delivery then reserves, creates its batch and moves on to poll; the salvager settles after.
    const delivery = createBatchProcessor(deps(runs));
    const batches = Object.create(runs.batches, {
      settle: {
        value: async (...args: Parameters<RunStore['batches']['settle']>) => {
          await expect(delivery(job, 'live')).rejects.toBeInstanceOf(DelayedError);
          expect(await reservedUsd()).toBeCloseTo(SHARD_USD, 9);
          return runs.batches.settle(...args);
        },
      },
    }) as RunStore['batches'];
    await abandonShard(deps(Object.create(runs, { batches: { value: batches } }) as RunStore), runId, shard, 'stalled');

    expect(await reservedUsd()).toBeCloseTo(0, 9);
    expect(await slotsHeld()).toBe(0);
    expect(await readShardState(runs, runId, shard)).toMatchObject({ phase: 'done', outcome: { spilled: 4 } });
    // The items moved on to the sync lane: the batch must not go on serving (and billing) them.
    expect((await upstreamBatches(stack)).map((batch) => batch.state)).toEqual(['BATCH_STATE_CANCELLED']);
    await close();
  });
});
