import { describe, expect, it } from 'vitest';
import { productCsv } from '../../helpers/bunch-stack.js';
import { batchJob, finishBatchRun, paidCalls, upstreamBatches, useBatchStack } from './batch-harness.js';

describe('batch lane: idempotent submission', () => {
  const open = useBatchStack();

  it('429 on create (too many active batches) is waited out, not failed', async () => {
    // Each batch stays active 1.5 s: long enough that the next shard's create meets it however
    // slowly a loaded machine uploads and creates (120 ms let a busy CI finish one before the next).
    const s = await open({ profile: { batch: { pendingMs: 20, runningMs: 1500, maxActiveBatches: 1 } } });
    const jobFile = await s.writeJob({ catalogCsv: productCsv(6), job: batchJob({ maxRequestsPerBatch: 2 }) });
    const started = await s.start(jobFile);
    const { meta, manifest } = await finishBatchRun(s, started.runId, started.outputUrl, 6);
    expect(meta.status).toBe('succeeded');
    expect(manifest.every((line) => line.lane === 'batch' && line.status === 'succeeded')).toBe(true);
    // The emulator refused some creates with 429 (three shards, one active batch allowed)...
    expect(s.emulator.requestLog.stats().byStatus['429'] ?? 0).toBeGreaterThan(0);
    // ...and still exactly one batch per shard exists upstream, each item paid once.
    expect((await upstreamBatches(s)).length).toBe(3);
    expect(paidCalls(s)).toEqual({ http: 0, batch: 6 });
  });

  it('a connection reset right after create: found again by displayName, exactly one batch per shard', async () => {
    const s = await open({ profile: { batch: { pendingMs: 20, runningMs: 80, resetAfterCreate: true } } });
    const jobFile = await s.writeJob({ catalogCsv: productCsv(5), job: batchJob({ maxRequestsPerBatch: 3 }) });
    const started = await s.start(jobFile);
    const { meta, manifest, shards } = await finishBatchRun(s, started.runId, started.outputUrl, 5);
    expect(meta.status).toBe('succeeded');
    expect(manifest.every((line) => line.lane === 'batch' && line.status === 'succeeded')).toBe(true);
    // Both creates were answered with a reset (logged with status 0), and each was retried.
    expect(s.emulator.requestLog.stats().byStatus['0'] ?? 0).toBeGreaterThanOrEqual(2);
    const upstream = await upstreamBatches(s);
    expect(upstream.map((b) => b.displayName.replace(/:[0-9a-f]{16}$/, '')).sort()).toEqual([`bunch:${started.runId}:s0001`, `bunch:${started.runId}:s0002`]);
    expect(shards.map((x) => x.upstream).sort()).toEqual(upstream.map((b) => b.name).sort());
    expect(paidCalls(s)).toEqual({ http: 0, batch: 5 });
  });
});
