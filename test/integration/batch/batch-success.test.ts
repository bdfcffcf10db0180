import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { productCsv, startBunchStack, type BunchStack } from '../../helpers/bunch-stack.js';
import { batchJob, finishBatchRun, paidCalls, upstreamBatches } from './batch-harness.js';

describe('batch lane: success through the emulator Batch API', () => {
  let stack: BunchStack;
  beforeAll(async () => {
    stack = await startBunchStack({ emulator: { profile: { batch: { pendingMs: 30, runningMs: 150 } } } });
    await stack.startWorkers();
  });
  afterAll(async () => stack?.stop());

  it('shards, submits, polls, collects: every item once, lane batch, batch price, paid once', async () => {
    const jobFile = await stack.writeJob({ catalogCsv: productCsv(10), job: batchJob() });
    const started = await stack.start(jobFile);
    expect(started).toMatchObject({ items: 10, enqueued: 0, batched: 10, shards: 3, lane: 'batch' });

    const { meta, manifest, shards } = await finishBatchRun(stack, started.runId, started.outputUrl, 10);
    expect(meta.status).toBe('succeeded');
    expect(meta.counts).toEqual({ succeeded: 10, failed: 0, skipped: 0, cancelled: 0 });
    expect(meta.lanes).toEqual({ batch: 10 });
    for (const line of manifest) {
      expect(line).toMatchObject({ status: 'succeeded', lane: 'batch', attempts: 1 });
      expect(line.costUsd).toBeCloseTo(0.058 * 0.5, 10);
      expect(line.image?.width).toBe(512);
    }
    expect(meta.costUsd).toBeCloseTo(10 * 0.029, 6);
    expect(paidCalls(stack)).toEqual({ http: 0, batch: 10 });

    expect(shards.map((s) => [s.shard, s.items, s.phase, s.upstreamState])).toEqual([
      ['s0001', 4, 'done', 'SUCCEEDED'],
      ['s0002', 4, 'done', 'SUCCEEDED'],
      ['s0003', 2, 'done', 'SUCCEEDED'],
    ]);
    const upstream = await upstreamBatches(stack);
    const ours = upstream.filter((b) => b.displayName.startsWith(`bunch:${started.runId}:`));
    expect(ours.map((b) => b.displayName.replace(/:[0-9a-f]{16}$/, '')).sort()).toEqual(['s0001', 's0002', 's0003'].map((s) => `bunch:${started.runId}:${s}`));
    for (const batch of ours) expect(batch.displayName).toMatch(/^bunch:.+:s000\d:[0-9a-f]{16}$/);

    // A second run of the same job finds everything in storage: nothing planned into batches, nothing paid.
    const again = await stack.start(jobFile);
    expect(again).toMatchObject({ items: 10, skipped: 10, batched: 0, shards: 0 });
    const rerun = await stack.waitForRun(again.runId);
    expect(rerun.counts.skipped).toBe(10);
    expect(paidCalls(stack)).toEqual({ http: 0, batch: 10 });
  });
});
