import { describe, expect, it } from 'vitest';
import { productCsv } from '../../helpers/bunch-stack.js';
import { batchJob, finishBatchRun, paidCalls, upstreamBatches, useBatchStack } from './batch-harness.js';

describe('batch lane: budget', () => {
  const open = useBatchStack();

  it('reserves each shard whole at the batch price; shards beyond the budget are never submitted', async () => {
    const s = await open({ profile: { batch: { pendingMs: 20, runningMs: 100 } } });
    // 12 items in 3 shards of 4; at $0.029 each a shard costs $0.116 and $0.25 covers exactly two.
    const jobFile = await s.writeJob({ catalogCsv: productCsv(12), job: { ...batchJob(), budget: { maxUsd: 0.25 } } });
    const started = await s.start(jobFile);
    expect(started).toMatchObject({ lane: 'batch', shards: 3, batched: 12 });
    const { meta, manifest } = await finishBatchRun(s, started.runId, started.outputUrl, 12);
    expect(meta).toMatchObject({ status: 'failed', stop: 'E_BUDGET' });
    expect(meta.counts).toEqual({ succeeded: 8, failed: 0, skipped: 0, cancelled: 4 });
    expect(manifest.filter((l) => l.status === 'cancelled').every((l) => l.errorCode === 'E_BUDGET')).toBe(true);
    expect(meta.costUsd).toBeCloseTo(8 * 0.029, 9);
    expect(paidCalls(s)).toEqual({ http: 0, batch: 8 });
    expect(await upstreamBatches(s)).toHaveLength(2);
  });
});
