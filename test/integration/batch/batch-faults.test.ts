import { describe, expect, it } from 'vitest';
import { productCsv } from '../../helpers/bunch-stack.js';
import { batchJob, finishBatchRun, paidCalls, upstreamBatches, useBatchStack } from './batch-harness.js';

describe('batch lane: per-item errors and failed batches', () => {
  const open = useBatchStack();

  it('partial success: errored items spill to sync and succeed there, refusals and unusable answers fail, served items stay batch', async () => {
    const s = await open({ profile: { batch: { pendingMs: 20, runningMs: 100 } } });
    const titles = ['plain one', 'flaky [[emu:fail-first=1:503]]', 'plain two', 'busy [[emu:fail-first=1:429]]', 'unsafe [[emu:image-safety]]', 'plain three', 'blank [[emu:no-image]]', 'garbled [[emu:bad-base64]]'];
    const jobFile = await s.writeJob({ catalogCsv: productCsv(titles.length, (i) => titles[i - 1] as string), job: batchJob({ maxRequestsPerBatch: 10 }) });
    const started = await s.start(jobFile);
    const { meta, manifest, shards } = await finishBatchRun(s, started.runId, started.outputUrl, 8);

    const byTitle = (fragment: string) => manifest.find((line) => titles[Number(line.key.slice(4)) - 1]?.includes(fragment));
    expect(byTitle('flaky')).toMatchObject({ status: 'succeeded', lane: 'sync', attempts: 1 });
    expect(byTitle('busy')).toMatchObject({ status: 'succeeded', lane: 'sync', attempts: 1 });
    expect(byTitle('unsafe')).toMatchObject({ status: 'failed', lane: 'batch', errorCode: 'E_SAFETY_BLOCKED', finishReason: 'IMAGE_SAFETY' });
    for (const fragment of ['plain one', 'plain two', 'plain three']) {
      expect(byTitle(fragment)).toMatchObject({ status: 'succeeded', lane: 'batch' });
    }
    // Answered but unusable: failed on the batch lane, not spilled to sync to be paid for again.
    expect(byTitle('blank')).toMatchObject({ status: 'failed', lane: 'batch', errorCode: 'E_NO_IMAGE' });
    expect(byTitle('garbled')).toMatchObject({ status: 'failed', lane: 'batch', errorCode: 'E_BAD_IMAGE' });
    expect(meta.counts).toEqual({ succeeded: 5, failed: 3, skipped: 0, cancelled: 0 });
    expect(meta.lanes).toEqual({ batch: 6, sync: 2 });
    // Sync items at the full price, batch items at half; an unusable answer was billed all the same.
    expect(byTitle('flaky')?.costUsd).toBeCloseTo(0.058, 10);
    for (const fragment of ['unsafe', 'blank', 'garbled']) expect(byTitle(fragment)?.costUsd).toBeCloseTo(0.029, 10);
    expect(meta.costUsd).toBeCloseTo(6 * 0.029 + 2 * 0.058, 6);
    expect(paidCalls(s).http).toBe(2);
    expect(shards).toHaveLength(1);
    expect(shards[0]).toMatchObject({ phase: 'done', upstreamState: 'SUCCEEDED', outcome: { succeeded: 3, failed: 3, spilled: 2 } });
    expect(shards[0]?.stats).toMatchObject({ requests: 8 });
  });

  it('FAILED batch: nothing served, every item spills to sync', async () => {
    const s = await open({ profile: { batch: { pendingMs: 20, runningMs: 60, outcome: 'failed' } } });
    const jobFile = await s.writeJob({ catalogCsv: productCsv(5), job: batchJob() });
    const started = await s.start(jobFile);
    const { meta, manifest, shards } = await finishBatchRun(s, started.runId, started.outputUrl, 5);
    expect(meta.status).toBe('succeeded');
    expect(manifest.every((line) => line.status === 'succeeded' && line.lane === 'sync')).toBe(true);
    expect(paidCalls(s)).toEqual({ http: 5, batch: 0 });
    expect(shards.map((x) => [x.upstreamState, x.outcome?.spilled])).toEqual([
      ['FAILED', 4],
      ['FAILED', 1],
    ]);
  });

  it('EXPIRED batches with onUnfinished: batch are resubmitted a bounded number of times, then failed', async () => {
    const s = await open({ profile: { batch: { pendingMs: 10, runningMs: 40, outcome: 'expired' } } });
    const jobFile = await s.writeJob({ catalogCsv: productCsv(3), job: batchJob({ onUnfinished: 'batch' }) });
    const started = await s.start(jobFile);
    const { meta, manifest, shards } = await finishBatchRun(s, started.runId, started.outputUrl, 3);
    expect(meta.status).toBe('failed');
    expect(meta.counts).toEqual({ succeeded: 0, failed: 3, skipped: 0, cancelled: 0 });
    for (const line of manifest) expect(line).toMatchObject({ status: 'failed', lane: 'batch', errorCode: 'E_BATCH' });
    expect(manifest[0]?.errorMessage).toMatch(/EXPIRED/);
    expect(shards.map((x) => [x.shard, x.generation, x.upstreamState, x.outcome?.resubmitted ?? 0, x.outcome?.failed ?? 0])).toEqual([
      ['s0001', 0, 'EXPIRED', 3, 0],
      ['s0001-r1', 1, 'EXPIRED', 3, 0],
      ['s0001-r2', 2, 'EXPIRED', 0, 3],
    ]);
    expect((await upstreamBatches(s)).length).toBe(3);
    expect(paidCalls(s)).toEqual({ http: 0, batch: 0 });
  });

  it('EXPIRED batch with onUnfinished: fail records the upstream reason without another call', async () => {
    const s = await open({ profile: { batch: { pendingMs: 10, runningMs: 40, outcome: 'expired' } } });
    const jobFile = await s.writeJob({ catalogCsv: productCsv(2), job: batchJob({ onUnfinished: 'fail' }) });
    const started = await s.start(jobFile);
    const { meta, manifest } = await finishBatchRun(s, started.runId, started.outputUrl, 2);
    expect(meta.counts.failed).toBe(2);
    for (const line of manifest) expect(line).toMatchObject({ status: 'failed', lane: 'batch', errorCode: 'E_BATCH' });
    expect((await upstreamBatches(s)).length).toBe(1);
    expect(paidCalls(s)).toEqual({ http: 0, batch: 0 });
  });
});
