import { afterEach, describe, expect, it } from 'vitest';
import { describeRun } from '../../../src/cli/describe-run.js';
import type { ManifestItemLine } from '../../../src/manifest/manifest-line.js';
import { plannedChunkKey, queuedJobs } from '../../../src/lanes/sync/planned-feed.js';
import { productCsv, startBunchStack, type BunchStack } from '../../helpers/bunch-stack.js';

let stack: BunchStack | undefined;
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

describe('bounded Redis: a run keeps at most a window of jobs in the queue', () => {
  it('plans 120 items with a window of 20: the rest wait in storage and are fed as the queue drains, each exactly once', async () => {
    stack = await startBunchStack({ concurrency: 4 });
    stack.emulator.setKnobs({ latency: { kind: 'fixed', ms: 30 } });
    const jobFile = await stack.writeJob({
      catalogCsv: productCsv(120),
      job: { system: 'You photograph products on white.', sync: { queueWindow: 20, attempts: 3, backoff: { initialMs: 50, maxMs: 200, jitter: 0 } } },
    });
    const started = await stack.start(jobFile);
    expect(started).toMatchObject({ items: 120, enqueued: 120, waitingInStorage: 100 });
    expect(await queuedJobs(stack.plane.queues.generate)).toBe(20);
    const store = stack.storeFor(started.outputUrl);
    // A window of 20 feeds chunks of 5 items.
    expect(await store.get(plannedChunkKey(started.runId, 19))).toBeDefined();
    expect(await store.get(plannedChunkKey(started.runId, 20))).toBeUndefined();
    const planned = await stack.plane.runs.getMeta(started.runId);
    expect(describeRun(planned!)).toContain('  feed       0/20 chunks of planned items queued (the rest wait in storage)');

    // The run's system instruction is kept once, in its config: not in each queued job.
    const [queuedJob] = await stack.plane.queues.generate.getJobs(['waiting'], 0, 0);
    expect(queuedJob?.data.request).not.toHaveProperty('systemInstruction');
    expect(planned?.config.systemInstruction).toEqual({ parts: [{ text: 'You photograph products on white.' }] });

    await stack.startWorkers();
    let most = 0;
    let meta = await stack.plane.runs.getMeta(started.runId);
    while (meta && !['succeeded', 'failed', 'aborted', 'cancelled'].includes(meta.status)) {
      most = Math.max(most, await queuedJobs(stack.plane.queues.generate));
      await new Promise((resolve) => setTimeout(resolve, 10));
      meta = await stack.plane.runs.getMeta(started.runId);
    }
    expect(meta?.status).toBe('succeeded');
    expect(most).toBeLessThanOrEqual(20);
    expect(meta?.feed).toEqual({ next: 20, chunks: 20 });
    expect(stack.emulator.requestLog.count({ route: 'generateContent', status: 200 })).toBe(120);
    const manifest = (await stack.readManifest(store, started.runId)) as ManifestItemLine[];
    expect(manifest.filter((line) => line.status === 'succeeded')).toHaveLength(120);
    expect(new Set(manifest.map((line) => line.itemKey)).size).toBe(120);
  });
});
