import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cancelRun } from '../../../src/lanes/cancel-run.js';
import type { ManifestItemLine } from '../../../src/manifest/manifest-line.js';
import { productCsv, startBunchStack, type BunchStack } from '../../helpers/bunch-stack.js';

/**
 * `bunch cancel` releases the run's waiting and delayed jobs once, when it is asked. A call in
 * flight then may fail in a way that is retried — a daily quota's 429 (wait until it resets,
 * hours), a backoff: the item must end cancelled there and then, not wait in the delayed set
 * (the run `running` with its stop set, unable to finish until the quota resets).
 */
describe('a run cancelled while a call is in flight that is then retried', () => {
  let stack: BunchStack;
  beforeAll(async () => {
    stack = await startBunchStack();
    await stack.startWorkers({ concurrency: 2, queuePauseCapMs: 1000 });
  });
  afterAll(async () => stack?.stop());

  it.each([
    { what: 'a daily quota (429, retry in 10 minutes)', fault: '[[emu:fail-first=1:429:retry=600s]]', code: 'E_RATE_LIMITED', folder: 'quota' },
    { what: 'a server error (backoff)', fault: '[[emu:fail-first=1:503]]', code: 'E_UPSTREAM', folder: 'backoff' },
  ])('ends the item cancelled instead of waiting: $what', async ({ fault, code, folder }) => {
    const csv = productCsv(2, (i) => (i === 1 ? `first [[emu:latency=1500ms]] ${fault}` : 'second [[emu:latency=1500ms]]'));
    const started = await stack.start(await stack.writeJob({ catalogCsv: csv, outputUrl: `file://${stack.dir.path}/${folder}`, job: { sync: { attempts: 3, backoff: { initialMs: 20_000, maxMs: 20_000, jitter: 0 } } } }));
    // Both calls are in flight by now (they take 1.5 s).
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect((await cancelRun(stack.plane.runs, stack.plane.queues, started.runId)).requested).toBe(true);
    // Before: still `running` after 15 s (the quota's item delayed 10 minutes, the other 20 s).
    const meta = await stack.waitForRun(started.runId, 15_000);
    expect(meta.status).toBe('cancelled');
    expect(meta.counts).toEqual({ succeeded: 1, failed: 0, skipped: 0, cancelled: 1 });
    const lines = (await stack.readManifest(stack.storeFor(started.outputUrl), started.runId)) as ManifestItemLine[];
    const first = lines.find((line) => line.key === 'SKU-0001');
    expect(first).toMatchObject({ status: 'cancelled', errorCode: 'E_CANCELLED', attempts: 1 });
    expect(first?.history?.map((entry) => [entry.outcome, entry.code])).toEqual([['cancelled', code]]);
  });
});
