import { DelayedError } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { createGeminiClient } from '../../../src/gemini/gemini-client.js';
import { abandonShard, createBatchProcessor } from '../../../src/lanes/batch/batch-processor.js';
import { readShardState, writeShardState } from '../../../src/lanes/batch/shard-state.js';
import { createShardBatch } from '../../../src/lanes/batch/submit-shard.js';
import type { RunStore } from '../../../src/runs/run-store.js';
import { startBunchStack, type BunchStack } from '../../helpers/bunch-stack.js';
import { plannedBudgetShard, upstreamBatches } from './batch-harness.js';

/**
 * Two deliveries of one shard job (BullMQ redelivers a job it thought stalled while the first runs
 * on, or after it died) hold copies of the shard's state read at different times. The one behind
 * must not write its copy over a state that got further (a reservation or a batch it does not
 * know would be forgotten: budget held for good, a batch left billing), and a delivery or
 * salvager must not lose sight of a batch created by a delivery that died before recording it.
 */
let stack: BunchStack | undefined;
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

const LONG_BATCHES = { emulator: { profile: { batch: { pendingMs: 60_000, runningMs: 60_000 } } } };

describe('a batch shard handled by deliveries that saw it at different times', () => {
  it('a delivery holding an older copy goes on from the stored state instead of writing over it', async () => {
    stack = await startBunchStack(LONG_BATCHES);
    const fixture = await plannedBudgetShard(stack);
    const { runId, shard, runs, deps, job, reservedUsd } = fixture;
    const planned = await runs.batches.getState(runId, shard);
    // The first delivery reserves, creates the batch and goes on to poll it.
    await expect(createBatchProcessor(deps(runs))(job, 'first')).rejects.toBeInstanceOf(DelayedError);
    const ahead = await readShardState(runs, runId, shard);
    expect(ahead).toMatchObject({ phase: 'submitted', reservedUsd: 0.116, upstream: expect.stringMatching(/^batches\//) });
    // A second delivery read the shard while it was still planned (its first read; later ones are real).
    let reads = 0;
    const batches = Object.create(runs.batches, {
      getState: { value: async (id: string, name: string) => ((reads += 1) === 1 ? planned : runs.batches.getState(id, name)) },
    }) as RunStore['batches'];
    const behind = Object.create(runs, { batches: { value: batches } }) as RunStore;
    await expect(createBatchProcessor(deps(behind))(job, 'second')).rejects.toBeInstanceOf(DelayedError);
    expect(await readShardState(runs, runId, shard)).toMatchObject({ phase: 'submitted', reservedUsd: 0.116, upstream: ahead?.upstream });
    expect(await reservedUsd()).toBeCloseTo(0.116, 9);
    expect(await upstreamBatches(stack)).toHaveLength(1);
    // A write behind the stored state is refused, as is one that would drop its reservation.
    expect(await writeShardState(runs, runId, { ...(ahead as NonNullable<typeof ahead>), phase: 'submitting' })).toBe('behind');
    expect(await writeShardState(runs, runId, { ...(ahead as NonNullable<typeof ahead>), reservedUsd: undefined })).toBe('behind');
    await fixture.close();
  });

  it('a salvager of a shard whose delivery died after creating its batch cancels that batch', async () => {
    stack = await startBunchStack(LONG_BATCHES);
    const fixture = await plannedBudgetShard(stack);
    const { runId, shard, runs, deps } = fixture;
    const state = await readShardState(runs, runId, shard);
    if (!state) throw new Error('the shard has no state');
    // The delivery recorded its intent (`submitting`), created the batch, and died before writing it.
    await runs.batches.acquireSlot(runId, shard, 10);
    expect(await runs.batches.reserve(runId, shard, 0.116, 10, JSON.stringify({ ...state, phase: 'submitting', reservedUsd: 0.116 }))).toEqual({ kind: 'reserved' });
    const client = createGeminiClient({ baseUrl: stack.emulator.url, apiKey: stack.emulator.apiKey ?? 'unused' });
    await createShardBatch(client, stack.storeFor(((await runs.getConfig(runId)).outputUrl)), { runId, shard, model: (await runs.getConfig(runId)).model, displayName: state.displayName });
    await abandonShard(deps(runs), runId, shard, 'its delivery died');
    expect((await upstreamBatches(stack)).map((batch) => batch.state)).toEqual(['BATCH_STATE_CANCELLED']);
    expect(await fixture.reservedUsd()).toBeCloseTo(0, 9);
    await fixture.close();
  });

  it('a stopped run does not wait for a creation lease held by a delivery that died: its shard is salvaged', async () => {
    stack = await startBunchStack(LONG_BATCHES);
    const fixture = await plannedBudgetShard(stack);
    const { runId, shard, runs, deps, job } = fixture;
    const state = await readShardState(runs, runId, shard);
    if (!state) throw new Error('the shard has no state');
    await runs.batches.acquireSlot(runId, shard, 10);
    expect(await runs.batches.reserve(runId, shard, 0.116, 10, JSON.stringify({ ...state, phase: 'submitting', reservedUsd: 0.116 }))).toEqual({ kind: 'reserved' });
    // The delivery that took the lease died before creating anything; the run is stopped since.
    expect(await runs.batches.takeCreationLease(runId, shard, 'a delivery that died', 600_000)).toBe(true);
    await runs.requestStop(runId, 'E_CANCELLED');
    expect(await createBatchProcessor(deps(runs))(job, 'next')).toBe('salvaged');
    expect(await readShardState(runs, runId, shard)).toMatchObject({ phase: 'done', cutShort: 'stop' });
    expect(await fixture.reservedUsd()).toBeCloseTo(0, 9);
    await fixture.close();
  });

  it('a delivery whose creation lease was taken over while it uploaded does not create its batch', async () => {
    stack = await startBunchStack(LONG_BATCHES);
    const fixture = await plannedBudgetShard(stack);
    const { runId, shard, runs, deps, job, runKey } = fixture;
    const real = createGeminiClient({ baseUrl: stack.emulator.url, apiKey: stack.emulator.apiKey ?? 'unused' });
    // The upload outlives the lease (a process frozen past it) and another delivery takes it over.
    const client = Object.create(real, {
      uploadResumable: {
        value: async (...args: Parameters<typeof real.uploadResumable>) => {
          const uploaded = await real.uploadResumable(...args);
          await stack!.plane.redis.set(`${runKey}:creating:${shard}`, 'the next delivery', 'PX', 600_000);
          return uploaded;
        },
      },
    }) as typeof real;
    await expect(createBatchProcessor(deps(runs, client))(job, 'frozen')).rejects.toBeInstanceOf(DelayedError);
    expect(await upstreamBatches(stack)).toHaveLength(0);
    expect(await readShardState(runs, runId, shard)).toMatchObject({ phase: 'submitting', reservedUsd: 0.116 });
    expect(await stack.plane.redis.get(`${runKey}:creating:${shard}`)).toBe('the next delivery');
    await fixture.close();
  });

  it('a reservation found held comes back exact', async () => {
    stack = await startBunchStack();
    const fixture = await plannedBudgetShard(stack);
    const { runId, shard, runs } = fixture;
    const state = await readShardState(runs, runId, shard);
    const amount = 0.1 + 0.2;
    const json = JSON.stringify({ ...state, phase: 'submitting', reservedUsd: amount });
    expect(await runs.batches.reserve(runId, shard, amount, 10, json)).toEqual({ kind: 'reserved' });
    expect(await runs.batches.reserve(runId, shard, amount, 10, json)).toEqual({ kind: 'held', amountUsd: amount });
    await fixture.close();
  });
});
