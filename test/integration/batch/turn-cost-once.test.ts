import { afterEach, describe, expect, it } from 'vitest';
import { createBatchProcessor } from '../../../src/lanes/batch/batch-processor.js';
import { readShardState } from '../../../src/lanes/batch/shard-state.js';
import { startBunchStack, type BunchStack } from '../../helpers/bunch-stack.js';
import { deliverUntilDone, diedAtReleaseRest, dyingAtReleaseRest, plannedBudgetShard } from './batch-harness.js';

/**
 * A multi-turn edit on the batch lane asks one turn per wave; a turn before the last is paid when
 * its wave is collected, and the next wave asks the next turn. Collecting a result file again
 * (its delivery died after collecting, before the shard settled) must not count those turns twice.
 */
let stack: BunchStack | undefined;
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

/** One turn of one item at the emulator's batch price. */
const TURN_USD = 0.029;

describe('a multi-turn edit turn collected twice', () => {
  it('is counted once, and its item moves on to the next wave once', async () => {
    stack = await startBunchStack({ emulator: { profile: { batch: { pendingMs: 20, runningMs: 100 } } } });
    const open = stack;
    const { runId, shard, runs, deps, job, runKey, reservedUsd, close } = await plannedBudgetShard(open, {}, undefined, { steps: ['Warmer light'] });
    // The first delivery dies after collecting, before it settles the shard; the job is delivered again.
    const dying = dyingAtReleaseRest(runs);
    expect(await deliverUntilDone(createBatchProcessor(deps(dying.runs)), job, diedAtReleaseRest)).toBe('collected');
    expect(dying.died()).toBe(1);
    // Turn 1 of the four items, once (before: twice, 0.232).
    expect(Number(await open.plane.redis.hget(runKey, 'costUsd'))).toBeCloseTo(4 * TURN_USD, 9);
    expect(await readShardState(runs, runId, shard)).toMatchObject({ phase: 'done' });
    const waves = Object.keys((await runs.getMeta(runId))?.shards ?? {}).filter((name) => name !== shard);
    expect(waves).toHaveLength(1);
    expect(await readShardState(runs, runId, waves[0] as string)).toMatchObject({ phase: 'planned', items: 4 });
    // The wave's shard holds nothing yet; the first gave all of its reservation back.
    expect(await reservedUsd()).toBeCloseTo(0, 9);
    await close();
  });
});
