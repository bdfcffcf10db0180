import { afterEach, describe, expect, it } from 'vitest';
import { createGeminiClient } from '../../../src/gemini/gemini-client.js';
import { abandonShard, createBatchProcessor } from '../../../src/lanes/batch/batch-processor.js';
import type { RunStore } from '../../../src/runs/run-store.js';
import { createShardState, readShardState, writeShardState } from '../../../src/lanes/batch/shard-state.js';
import { startBunchStack, type BunchStack } from '../../helpers/bunch-stack.js';
import { plannedBudgetShard, upstreamBatches } from './batch-harness.js';

/**
 * A shard BullMQ failed for good is salvaged by the `failed` event of the process that failed it,
 * and by the fleet's sweep when that process seems gone. Both can come at once (a handler slower
 * than the sweep's grace). Salvaging twice is safe (records are first-wins, job ids and shard names
 * deterministic), but the shard's budget reservation must be given back once, not once per salvager.
 */
let stack: BunchStack | undefined;
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

describe('a shard salvaged by two processes at once', () => {
  /** Where a shard is after its first step: its items reserved at the batch price, a slot held. */
  async function reservedShard(fixture: Awaited<ReturnType<typeof plannedBudgetShard>>, phase: 'planned' | 'submitting' = 'planned') {
    const { runs, runId, shard } = fixture;
    const state = await readShardState(runs, runId, shard);
    if (!state) throw new Error('the shard has no state');
    expect(await runs.batches.acquireSlot(runId, shard, 10)).toBe(true);
    expect(await runs.batches.reserve(runId, shard, 0.116, 10, JSON.stringify({ ...state, phase, reservedUsd: 0.116 }))).toEqual({ kind: 'reserved' });
    return { ...state, phase, reservedUsd: 0.116 };
  }

  /** The shard ended done with its items moved on, holding no slot and no reservation. */
  async function expectSettledAndNothingHeld(fixture: Awaited<ReturnType<typeof plannedBudgetShard>>) {
    expect(await readShardState(fixture.runs, fixture.runId, fixture.shard)).toMatchObject({ phase: 'done', outcome: { spilled: 4 } });
    expect(await fixture.slotsHeld()).toBe(0);
    expect(await fixture.reservedUsd()).toBeCloseTo(0, 9);
  }

  it('gives its budget reservation back once, and ends done with its items moved on', async () => {
    stack = await startBunchStack();
    const fixture = await plannedBudgetShard(stack);
    const { runId, shard, runs, reservedUsd } = fixture;
    const state = await reservedShard(fixture);
    expect(await reservedUsd()).toBeCloseTo(0.116, 9);

    const deps = fixture.deps(runs);
    await Promise.all([abandonShard(deps, runId, shard, 'the failed event'), abandonShard(deps, runId, shard, 'the sweep')]);
    // And once more later (a sweep that read the job before the state turned done).
    await abandonShard(deps, runId, shard, 'a late sweep');

    await expectSettledAndNothingHeld(fixture);
    expect(await readShardState(runs, runId, shard)).toMatchObject({ reservedUsd: 0, outcome: { failed: 0, cancelled: 0 } });
    // The items went to the sync lane once each (deterministic job ids).
    expect(await stack.plane.queues.generate.getJobCountByTypes('waiting', 'prioritized', 'delayed')).toBe(4);

    // A delivery that lost its lock runs on and writes the state it holds (reservation and all):
    // done is final, so nothing changes, and a later sweep finds nothing to give back.
    const stale = { ...state, phase: 'submitted' as const, upstream: 'batches/stale', reservedUsd: 0.116 };
    expect(await writeShardState(runs, runId, stale)).toBe('done');
    expect(await readShardState(runs, runId, shard)).toMatchObject({ phase: 'done', reservedUsd: 0 });
    await abandonShard(deps, runId, shard, 'the sweep, five minutes later');
    expect(await reservedUsd()).toBeCloseTo(0, 9);

    // A parent step repeated later creates its child shards once: an existing shard is not reset.
    expect(await createShardState(runs, runId, { ...state, phase: 'planned', reservedUsd: undefined })).toBe(false);
    expect(await readShardState(runs, runId, shard)).toMatchObject({ phase: 'done' });

    // An amount to reserve that is not a number is refused before anything is written.
    await expect(runs.batches.reserve(runId, shard, Number.NaN, 10, JSON.stringify({ phase: 'submitting' }))).rejects.toThrow(/bad amount/);
    expect(await readShardState(runs, runId, shard)).toMatchObject({ phase: 'done', reservedUsd: 0 });
    await fixture.close();
  });

  it('a delivery that finds its shard settled elsewhere as it reserves gives back its slot and reserves nothing', async () => {
    stack = await startBunchStack();
    const fixture = await plannedBudgetShard(stack);
    const { shard, runs, deps, job } = fixture;
    // While this delivery takes its slot and reserves, the `failed` handler of the process that
    // failed its job (it had lost its lock) salvages and settles the shard.
    const salvager = deps(runs);
    const batches = Object.create(runs.batches, {
      reserve: { value: async (id: string, ...rest: [string, number, number, string]) => (await abandonShard(salvager, id, shard, 'stalled'), runs.batches.reserve(id, ...rest)) },
    }) as RunStore['batches'];
    const racing = Object.create(runs, { batches: { value: batches } }) as RunStore;
    expect(await createBatchProcessor(deps(racing))(job, 'stale-token')).toBe('settled elsewhere');
    await expectSettledAndNothingHeld(fixture);
    await fixture.close();
  });

  it('a delivery that created a batch for a shard settled meanwhile cancels it (its items moved on)', async () => {
    stack = await startBunchStack({ emulator: { profile: { batch: { pendingMs: 60_000, runningMs: 60_000 } } } });
    const fixture = await plannedBudgetShard(stack);
    const { runId, shard, runs, deps, job } = fixture;
    // The shard had reserved and taken its slot in an earlier step: it is submitting.
    await reservedShard(fixture, 'submitting');
    const salvager = deps(runs);
    const real = createGeminiClient({ baseUrl: stack.emulator.url, apiKey: stack.emulator.apiKey ?? 'unused' });
    // The batch is created upstream; before this delivery records it, the shard is salvaged and
    // settled elsewhere (that salvager saw no batch to cancel).
    const client = Object.create(real, {
      request: {
        value: async (method: string, path: string, options: unknown) => {
          const answer = await real.request(method as 'POST', path, options as never);
          if (path.endsWith(':batchGenerateContent')) await abandonShard(salvager, runId, shard, 'stalled');
          return answer;
        },
      },
    }) as typeof real;
    expect(await createBatchProcessor(deps(runs, client))(job, 'stale-token')).toBe('settled elsewhere');
    expect((await upstreamBatches(stack)).map((batch) => batch.state)).toEqual(['BATCH_STATE_CANCELLED']);
    await expectSettledAndNothingHeld(fixture);
    await fixture.close();
  });
});
