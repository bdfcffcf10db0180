import { afterEach, describe, expect, it } from 'vitest';
import { createGeminiClient } from '../../../src/gemini/gemini-client.js';
import { abandonShard, type BatchProcessorDeps } from '../../../src/lanes/batch/batch-processor.js';
import { readShardState, writeShardState } from '../../../src/lanes/batch/shard-state.js';
import { RunContextCache } from '../../../src/lanes/run-context-cache.js';
import { silentLogger } from '../../../src/logging/create-logger.js';
import { openObjectStore } from '../../../src/storage/open-object-store.js';
import { productCsv, startBunchStack, type BunchStack } from '../../helpers/bunch-stack.js';
import { batchJob } from './batch-harness.js';

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

    // An amount that is not a number is refused before anything is written.
    await expect(runs.batches.settle(started.runId, 'another', JSON.stringify({ phase: 'done' }), Number.NaN)).rejects.toThrow(/bad amount/);
    await deps.contexts.close();
  });
});
