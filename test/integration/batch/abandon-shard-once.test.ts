import { afterEach, describe, expect, it } from 'vitest';
import { createGeminiClient } from '../../../src/gemini/gemini-client.js';
import type { Job } from 'bullmq';
import { abandonShard, createBatchProcessor, type BatchProcessorDeps } from '../../../src/lanes/batch/batch-processor.js';
import type { BatchJobData } from '../../../src/lanes/batch/batch-queue.js';
import type { RunStore } from '../../../src/runs/run-store.js';
import { createShardState, readShardState, writeShardState } from '../../../src/lanes/batch/shard-state.js';
import { RunContextCache } from '../../../src/lanes/run-context-cache.js';
import { silentLogger } from '../../../src/logging/create-logger.js';
import { openObjectStore } from '../../../src/storage/open-object-store.js';
import { productCsv, startBunchStack, type BunchStack } from '../../helpers/bunch-stack.js';
import { batchJob, upstreamBatches } from './batch-harness.js';

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
  it('gives its budget reservation back once, and ends done with its items moved on', async () => {
    stack = await startBunchStack();
    const jobFile = await stack.writeJob({ catalogCsv: productCsv(4), job: { ...batchJob(), budget: { maxUsd: 10 } } });
    const started = await stack.start(jobFile);
    expect(started).toMatchObject({ lane: 'batch', shards: 1, batched: 4 });
    const { runs, queues } = stack.plane;
    const shard = Object.keys((await runs.getMeta(started.runId))?.shards ?? {})[0];
    if (!shard) throw new Error('the run has no shard');

    // Where a shard is after its first step: its items reserved at the batch price, a slot held.
    const state = await readShardState(runs, started.runId, shard);
    if (!state) throw new Error('the shard has no state');
    expect(await runs.budget.reserve(started.runId, 0.116, 10)).toBe(true);
    expect(await runs.batches.acquireSlot(started.runId, shard, 10)).toBe(true);
    state.reservedUsd = 0.116;
    await writeShardState(runs, started.runId, state);

    const deps: BatchProcessorDeps = {
      runs,
      contexts: new RunContextCache(runs, (url) => openObjectStore(url)),
      client: createGeminiClient({ baseUrl: stack.emulator.url, apiKey: stack.emulator.apiKey ?? 'unused' }),
      generateQueue: queues.generate,
      batchQueue: queues.batch,
      logger: silentLogger(),
      onRunComplete: async () => {},
    };
    await Promise.all([
      abandonShard(deps, started.runId, shard, 'the failed event'),
      abandonShard(deps, started.runId, shard, 'the sweep'),
    ]);
    // And once more later (a sweep that read the job before the state turned done).
    await abandonShard(deps, started.runId, shard, 'a late sweep');

    const runKey = `${stack.prefix}:run:{${started.runId}}`;
    expect(Number(await stack.plane.redis.hget(runKey, 'reservedUsd'))).toBeCloseTo(0, 9);
    expect(await stack.plane.redis.scard(`${runKey}:batches`)).toBe(0);
    const settled = await readShardState(runs, started.runId, shard);
    expect(settled).toMatchObject({ phase: 'done', reservedUsd: 0, outcome: { spilled: 4, failed: 0, cancelled: 0 } });
    // The items went to the sync lane once each (deterministic job ids).
    expect(await queues.generate.getJobCountByTypes('waiting', 'prioritized', 'delayed')).toBe(4);

    // A delivery that lost its lock runs on and writes the state it holds (reservation and all):
    // done is final, so nothing changes, and a later sweep finds nothing to give back.
    const stale = { ...state, phase: 'submitted' as const, upstream: 'batches/stale', reservedUsd: 0.116 };
    expect(await writeShardState(runs, started.runId, stale)).toBe(false);
    expect(await readShardState(runs, started.runId, shard)).toMatchObject({ phase: 'done', reservedUsd: 0 });
    await abandonShard(deps, started.runId, shard, 'the sweep, five minutes later');
    expect(Number(await stack.plane.redis.hget(runKey, 'reservedUsd'))).toBeCloseTo(0, 9);

    // A parent step repeated later creates its child shards once: an existing shard is not reset.
    expect(await createShardState(runs, started.runId, { ...state, phase: 'planned', reservedUsd: undefined })).toBe(false);
    expect(await readShardState(runs, started.runId, shard)).toMatchObject({ phase: 'done' });

    // An amount to reserve that is not a number is refused before anything is written.
    await expect(runs.batches.reserve(started.runId, shard, Number.NaN, 10, JSON.stringify({ phase: 'submitting' }))).rejects.toThrow(/bad amount/);
    expect(await readShardState(runs, started.runId, shard)).toMatchObject({ phase: 'done', reservedUsd: 0 });
    await deps.contexts.close();
  });

  /** A batch run of 4 items in one shard, planned, no workers; what a shard's processor needs. */
  async function oneShard(open: BunchStack) {
    const jobFile = await open.writeJob({ catalogCsv: productCsv(4), job: { ...batchJob(), budget: { maxUsd: 10 } } });
    const started = await open.start(jobFile);
    const { runs, queues } = open.plane;
    const shard = Object.keys((await runs.getMeta(started.runId))?.shards ?? {})[0] as string;
    const deps = (withRuns: RunStore, client = createGeminiClient({ baseUrl: open.emulator.url, apiKey: open.emulator.apiKey ?? 'unused' })): BatchProcessorDeps => ({
      runs: withRuns,
      contexts: new RunContextCache(withRuns, (url) => open.storeFor(url)),
      client,
      generateQueue: queues.generate,
      batchQueue: queues.batch,
      logger: silentLogger(),
      onRunComplete: async () => {},
    });
    const runKey = `${open.prefix}:run:{${started.runId}}`;
    /** The shard ended done with its items moved on, holding no slot and no reservation. */
    const expectSettledAndNothingHeld = async () => {
      expect(await readShardState(runs, started.runId, shard)).toMatchObject({ phase: 'done', outcome: { spilled: 4 } });
      expect(await open.plane.redis.scard(`${runKey}:batches`)).toBe(0);
      expect(Number((await open.plane.redis.hget(runKey, 'reservedUsd')) ?? 0)).toBeCloseTo(0, 9);
    };
    const job = { data: { runId: started.runId, shard } } as Job<BatchJobData>;
    return { runId: started.runId, shard, runs, deps, expectSettledAndNothingHeld, job };
  }

  it('a delivery that finds its shard settled elsewhere as it reserves gives back its slot and reserves nothing', async () => {
    stack = await startBunchStack();
    const { runId, shard, runs, deps, expectSettledAndNothingHeld, job } = await oneShard(stack);
    // While this delivery takes its slot and reserves, the `failed` handler of the process that
    // failed its job (it had lost its lock) salvages and settles the shard.
    const salvager = deps(runs);
    const batches = Object.create(runs.batches, {
      reserve: { value: async (id: string, ...rest: [string, number, number, string]) => (await abandonShard(salvager, id, shard, 'stalled'), runs.batches.reserve(id, ...rest)) },
    }) as RunStore['batches'];
    const racing = Object.create(runs, { batches: { value: batches } }) as RunStore;
    const delivery = deps(racing);
    expect(await createBatchProcessor(delivery)(job, 'stale-token')).toBe('settled elsewhere');
    await expectSettledAndNothingHeld();
    await salvager.contexts.close();
    await delivery.contexts.close();
  });

  it('a delivery that created a batch for a shard settled meanwhile cancels it (its items moved on)', async () => {
    stack = await startBunchStack({ emulator: { profile: { batch: { pendingMs: 60_000, runningMs: 60_000 } } } });
    const { runId, shard, runs, deps, expectSettledAndNothingHeld, job } = await oneShard(stack);
    // The shard had reserved and taken its slot in an earlier step: it is submitting.
    const state = await readShardState(runs, runId, shard);
    if (!state) throw new Error('the shard has no state');
    expect(await runs.budget.reserve(runId, 0.116, 10)).toBe(true);
    expect(await runs.batches.acquireSlot(runId, shard, 10)).toBe(true);
    await writeShardState(runs, runId, { ...state, phase: 'submitting', reservedUsd: 0.116 });
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
    const delivery = deps(runs, client);
    expect(await createBatchProcessor(delivery)(job, 'stale-token')).toBe('settled elsewhere');
    expect((await upstreamBatches(stack)).map((batch) => batch.state)).toEqual(['BATCH_STATE_CANCELLED']);
    await expectSettledAndNothingHeld();
    await salvager.contexts.close();
    await delivery.contexts.close();
  });
});
