import { describe, expect, it } from 'vitest';
import { cancelRun } from '../../../src/lanes/cancel-run.js';
import { readShardState } from '../../../src/lanes/batch/shard-state.js';
import { describeRun } from '../../../src/cli/describe-run.js';
import type { RunMeta } from '../../../src/runs/run-store.js';
import { productCsv, type BunchStack } from '../../helpers/bunch-stack.js';
import { batchJob, finishBatchRun, paidCalls, upstreamBatches, useBatchStack } from './batch-harness.js';

describe('batch lane: cancel, deadline, lane auto', () => {
  const open = useBatchStack();

  async function waitForServed(s: BunchStack, runId: string, shard: string, atLeast: number): Promise<void> {
    const until = Date.now() + 20_000;
    for (;;) {
      const state = await readShardState(s.plane.runs, runId, shard);
      if ((state?.stats?.succeeded ?? 0) >= atLeast) return;
      if (Date.now() > until) throw new Error(`shard ${shard} never served ${atLeast} items: ${JSON.stringify(state)}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  it('cancel mid-run: the upstream batch is cancelled, served items kept, the rest cancelled', async () => {
    const s = await open({ profile: { batch: { pendingMs: 10, runningMs: 3000 } } });
    const jobFile = await s.writeJob({ catalogCsv: productCsv(8), job: batchJob({ maxRequestsPerBatch: 8 }) });
    const started = await s.start(jobFile);
    await waitForServed(s, started.runId, 's0001', 2);
    const cancelled = await cancelRun(s.plane.runs, s.plane.queues, started.runId);
    expect(cancelled.requested).toBe(true);

    const { meta, manifest, shards } = await finishBatchRun(s, started.runId, started.outputUrl, 8);
    const served = manifest.filter((line) => line.status === 'succeeded');
    expect(served.length).toBeGreaterThanOrEqual(2);
    expect(served.length).toBeLessThan(8);
    for (const line of served) expect(line.lane).toBe('batch');
    for (const line of manifest.filter((l) => l.status !== 'succeeded')) {
      expect(line).toMatchObject({ status: 'cancelled', errorCode: 'E_CANCELLED', lane: 'batch' });
    }
    expect(meta.counts.succeeded + meta.counts.cancelled).toBe(8);
    expect(shards[0]).toMatchObject({ upstreamState: 'CANCELLED', cutShort: 'stop', phase: 'done' });
    expect((await upstreamBatches(s)).map((b) => b.state)).toEqual(['BATCH_STATE_CANCELLED']);
    // Paid once for what was served, never re-generated anywhere.
    expect(paidCalls(s)).toEqual({ http: 0, batch: served.length });
  });

  it('deadline: an unfinished batch is cancelled before the deadline, its served items kept, the rest spilled to sync', async () => {
    const s = await open({ profile: { batch: { pendingMs: 10, runningMs: 8000 } } });
    const jobFile = await s.writeJob({ catalogCsv: productCsv(6), job: batchJob({ maxRequestsPerBatch: 6, deadline: '3s' }) });
    const started = await s.start(jobFile);
    const { meta, manifest, shards } = await finishBatchRun(s, started.runId, started.outputUrl, 6);
    expect(meta.status).toBe('succeeded');
    expect(meta.counts.succeeded).toBe(6);
    const batch = manifest.filter((line) => line.lane === 'batch').length;
    const sync = manifest.filter((line) => line.lane === 'sync').length;
    expect(batch).toBeGreaterThanOrEqual(1);
    expect(sync).toBeGreaterThanOrEqual(1);
    expect(batch + sync).toBe(6);
    expect(shards[0]).toMatchObject({ cutShort: 'deadline', upstreamState: 'CANCELLED', outcome: { succeeded: batch, spilled: sync } });
    expect(paidCalls(s)).toEqual({ http: sync, batch });
  });

  it('lane auto: a small run goes to sync, a large one to batch; status shows the batches', async () => {
    const s = await open({ profile: { batch: { pendingMs: 10, runningMs: 60 } } });
    const small = await s.writeJob({ catalogCsv: productCsv(3), job: { ...batchJob({ deadline: '4h' }), lane: 'auto' } });
    const smallRun = await s.start(small, { autoBatchMinItems: 5 });
    expect(smallRun).toMatchObject({ lane: 'sync', enqueued: 3, batched: 0 });
    const smallDone = await finishBatchRun(s, smallRun.runId, smallRun.outputUrl, 3);
    expect(smallDone.meta.lanes).toEqual({ sync: 3 });
    expect(smallDone.meta.extra.lane).toBe('sync');

    const large = await s.writeJob({ catalogCsv: productCsv(7, (i) => `Large ${i}`), job: { ...batchJob({ deadline: '4h' }), lane: 'auto' } });
    const largeRun = await s.start(large, { autoBatchMinItems: 5 });
    expect(largeRun).toMatchObject({ lane: 'batch', enqueued: 0, batched: 7, shards: 2 });
    const largeDone = await finishBatchRun(s, largeRun.runId, largeRun.outputUrl, 7);
    expect(largeDone.meta.lanes).toEqual({ batch: 7 });
    expect(paidCalls(s)).toEqual({ http: 3, batch: 7 });

    const text = describeRun((await s.plane.runs.getMeta(largeRun.runId)) as RunMeta);
    expect(text).toMatch(/batch s0001 +batches\/\S+ +SUCCEEDED +done +4 items: 4 succeeded/);
    expect(text).toMatch(/batch s0002 +batches\/\S+ +SUCCEEDED +done +3 items: 3 succeeded/);
  });

  it('lane auto with a near deadline goes to sync whatever the size', async () => {
    const s = await open({});
    const jobFile = await s.writeJob({ catalogCsv: productCsv(6), job: { ...batchJob({ deadline: '30m' }), lane: 'auto' } });
    const started = await s.start(jobFile, { autoBatchMinItems: 2 });
    expect(started).toMatchObject({ lane: 'sync', enqueued: 6, batched: 0 });
    await finishBatchRun(s, started.runId, started.outputUrl, 6);
  });
});
