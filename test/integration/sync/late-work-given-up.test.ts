import type { Job } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { GENERATE_QUEUE } from '../../../src/lanes/run-queues.js';
import { RunContextCache } from '../../../src/lanes/run-context-cache.js';
import { claimToken } from '../../../src/lanes/sync/held-claim.js';
import type { GenerateJobData } from '../../../src/lanes/sync/generate-job-data.js';
import { silentLogger } from '../../../src/logging/create-logger.js';
import type { ManifestItemLine } from '../../../src/manifest/manifest-line.js';
import { givenUpItems } from '../../../src/workers/given-up-items.js';
import { failJobUnrecorded } from '../../helpers/fail-job-unrecorded.js';
import { productCsv, startBunchStack, type BunchStack } from '../../helpers/bunch-stack.js';

/**
 * A delivery past its deadline gives its slot back and goes on with the call (it holds the output
 * claim, so nobody pays twice). When that was the job's last attempt BullMQ fails the job at once;
 * the `failed` handler must not record the item failed while the delivery is still at work, or the
 * output it is paying for is turned away when it lands.
 */
let stack: BunchStack | undefined;
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

describe('the last attempt passes its deadline while its call runs on', () => {
  it('the item is recorded by the late work, succeeded with its cost, not failed by the given-up job', async () => {
    stack = await startBunchStack({ concurrency: 1 });
    await stack.startWorkers({ jobDeadlineMs: 400, claimRecheckMs: 300 });
    const jobFile = await stack.writeJob({
      catalogCsv: productCsv(1, () => 'slow [[emu:latency=1500ms]]'),
      job: { sync: { timeoutMs: '10s', attempts: 1, backoff: { initialMs: 50, maxMs: 100, jitter: 0 } } },
    });
    const started = await stack.start(jobFile);
    const meta = await stack.waitForRun(started.runId);
    const manifest = (await stack.readManifest(stack.storeFor(started.outputUrl), started.runId)) as ManifestItemLine[];
    // Before: failed with E_TIMEOUT, cost 0, while the paid image landed in storage after the run ended.
    expect(meta.status).toBe('succeeded');
    expect(manifest).toHaveLength(1);
    expect(manifest[0]).toMatchObject({ status: 'succeeded', lane: 'sync' });
    expect(meta.costUsd).toBeCloseTo(0.058, 9);
    expect(stack.emulator.requestLog.list({ route: 'generateContent', status: 200 })).toHaveLength(1);
  });

  it('the sweep leaves a given-up job alone while its item\'s own delivery holds the claim, and records it once the claim lapses', async () => {
    stack = await startBunchStack();
    const started = await stack.start(await stack.writeJob({ catalogCsv: 'sku,title\nS1,Lamp\n' }));
    await failJobUnrecorded(stack.redis.url, stack.prefix, GENERATE_QUEUE, 'attempts used up');
    const { runs, queues } = stack.plane;
    const job = (await queues.generate.getFailed(0, 0))[0] as Job<GenerateJobData>;
    const contexts = new RunContextCache(runs, (url) => stack!.storeFor(url));
    const items = givenUpItems({ runs, contexts, generateQueue: queues.generate, onRunComplete: async () => {}, logger: silentLogger(), apiKey: 'k' });
    const store = stack.storeFor(started.outputUrl);
    const claimKey = runs.claims.key({ markerUri: store.uriFor(job.data.markerKey), inputHash: job.data.inputHash });
    // The item's last delivery, past its deadline, is still calling: it holds the claim.
    await stack.plane.redis.set(claimKey, claimToken(started.runId, job.data.index, 1), 'PX', 60_000);
    expect(await items.sweep.unhandled(job)).toBe(false);
    await items.record(job, 'E_TIMEOUT', 'the delivery passed its deadline');
    expect(await runs.records.isTerminal(started.runId, job.data.index)).toBe(false);
    // Another run's claim on the same output is no reason to wait: only this item's own deliveries are.
    await stack.plane.redis.set(claimKey, claimToken('another-run', job.data.index, 1), 'PX', 60_000);
    expect(await items.sweep.unhandled(job)).toBe(true);
    // Its process died: the claim lapsed. The sweep records the item now.
    await stack.plane.redis.del(claimKey);
    expect(await items.sweep.unhandled(job)).toBe(true);
    await items.sweep.handle(job);
    expect(await runs.records.isTerminal(started.runId, job.data.index)).toBe(true);
    await contexts.close();
  });
});
