import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { roundUsd } from '../../../src/gemini/usage-cost.js';
import { productCsv, startBunchStack, type BunchStack } from '../../helpers/bunch-stack.js';
import { batchJob, finishBatchRun, paidCalls, upstreamBatches } from '../batch/batch-harness.js';

describe('multi-turn edit steps on the batch lane', () => {
  let stack: BunchStack;
  beforeAll(async () => {
    stack = await startBunchStack({ emulator: { profile: { batch: { pendingMs: 20, runningMs: 80 } } } });
    await stack.startWorkers();
  });
  afterAll(async () => stack?.stop());

  it('asks each turn in a wave of its own, the whole conversation each time, at the batch price', async () => {
    const jobFile = await stack.writeJob({
      catalogCsv: productCsv(5),
      job: { ...batchJob(), steps: ['Add a sprig of eucalyptus beside the {{title}}', 'Warmer light'] },
    });
    const started = await stack.start(jobFile);
    expect(started).toMatchObject({ items: 5, batched: 5, shards: 2, lane: 'batch' });
    const { meta, manifest, shards } = await finishBatchRun(stack, started.runId, started.outputUrl, 5);
    expect(meta.counts).toEqual({ succeeded: 5, failed: 0, skipped: 0, cancelled: 0 });
    // Three turns per item, all of them through batches: none went to the sync route.
    expect(paidCalls(stack)).toEqual({ http: 0, batch: 15 });
    for (const line of manifest) {
      expect(line).toMatchObject({ status: 'succeeded', lane: 'batch' });
      expect(line.steps?.map((step) => [step.turn, step.costUsd])).toEqual([
        [1, 0.029],
        [2, 0.029],
        [3, 0.029],
      ]);
      const prompts = (line.steps ?? []).map((step) => step.usage.promptTokens);
      expect(prompts[1]).toBeGreaterThan(prompts[0]!);
      expect(prompts[2]).toBeGreaterThan(prompts[1]!);
      // The last wave's line paid for the last turn; the run counts every turn.
      expect(line.costUsd).toBe(0.029);
    }
    expect(meta.costUsd).toBeCloseTo(roundUsd(15 * 0.029), 9);
    // One wave per turn: the first shards, then `-t` waves for turn 2 and turn 3.
    const waves = shards.map((shard) => shard.shard).sort();
    expect(waves.filter((name) => !name.includes('-t'))).toEqual(['s0001', 's0002']);
    expect(waves.filter((name) => name.includes('-t')).length).toBeGreaterThanOrEqual(4);
    expect(shards.every((shard) => shard.phase === 'done')).toBe(true);
    const ours = (await upstreamBatches(stack)).filter((batch) => batch.displayName.startsWith(`bunch:${started.runId}:`));
    expect(ours.length).toBe(shards.length);
    // The turn files are gone once the outputs are stored.
    const leftovers: string[] = [];
    for await (const key of stack.storeFor(started.outputUrl).list('_bunch/items/')) leftovers.push(key);
    expect(leftovers.filter((key) => key.includes('/turns/'))).toEqual([]);
  });
});
