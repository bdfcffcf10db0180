import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cancelRun } from '../../../src/lanes/cancel-run.js';
import type { ManifestItemLine, ManifestRejectedLine } from '../../../src/manifest/manifest-line.js';
import { productCsv, startBunchStack, type BunchStack } from '../../helpers/bunch-stack.js';

const stacks: BunchStack[] = [];
async function stack(options: Parameters<typeof startBunchStack>[0] = {}): Promise<BunchStack> {
  const created = await startBunchStack(options);
  stacks.push(created);
  return created;
}
afterEach(async () => {
  while (stacks.length > 0) await stacks.pop()!.stop();
});

const generated = (s: BunchStack) => s.emulator.requestLog.count({ route: 'generateContent', status: 200 });

describe('runs over time: storage is the source of truth', () => {
  it('a second run of an unchanged catalog pays nothing; after Redis is lost only changed rows are generated', async () => {
    const first = await stack();
    await first.startWorkers();
    const outputUrl = `file://${path.join(first.dir.path, 'shared-out')}`;
    const jobFile = await first.writeJob({ catalogCsv: productCsv(20), outputUrl });
    const run1 = await first.start(jobFile);
    expect((await first.waitForRun(run1.runId)).counts.succeeded).toBe(20);
    expect(generated(first)).toBe(20);

    const run2 = await first.start(jobFile);
    expect(run2).toMatchObject({ items: 20, enqueued: 0, skipped: 20 });
    const meta2 = await first.waitForRun(run2.runId);
    expect(meta2).toMatchObject({ status: 'succeeded', counts: { succeeded: 0, skipped: 20, failed: 0, cancelled: 0 } });
    expect(generated(first)).toBe(20);
    const manifest2 = (await first.readManifest(first.storeFor(outputUrl), run2.runId)) as ManifestItemLine[];
    expect(manifest2.every((line) => line.status === 'skipped' && line.reused === true && line.image?.sha256)).toBe(true);

    // A fresh Redis (and emulator): everything it knows comes from storage.
    const second = await stack();
    await second.startWorkers();
    const changed = productCsv(25, (i) => (i === 3 ? 'Product 3, now in red' : `Product ${i}`));
    const jobFile2 = await second.writeJob({ catalogCsv: changed, outputUrl, job: { name: path.basename(jobFile, '.yaml') } });
    const run3 = await second.start(jobFile2);
    expect(run3).toMatchObject({ items: 25, skipped: 19, enqueued: 6 });
    expect((await second.waitForRun(run3.runId)).counts).toEqual({ succeeded: 6, skipped: 19, failed: 0, cancelled: 0 });
    expect(generated(second)).toBe(6);
  });
});

describe('stopping a run', () => {
  it('a rejected API key stops the whole run instead of failing every item with a call', async () => {
    const s = await stack({ concurrency: 2 });
    await s.startWorkers({ gemini: { baseUrl: s.emulator.url, apiKey: 'not-the-key' } });
    const started = await s.start(await s.writeJob({ catalogCsv: productCsv(60) }));
    const meta = await s.waitForRun(started.runId);
    expect(meta.status).toBe('aborted');
    expect(meta.stop).toBe('E_AUTH');
    expect(meta.counts.failed + meta.counts.cancelled).toBe(60);
    const calls = s.emulator.requestLog.count({ route: 'generateContent' });
    // Only the calls already in flight when the first 400 arrived were made (concurrency 2).
    expect(calls).toBe(meta.counts.failed);
    expect(calls).toBeLessThanOrEqual(2);
    expect(meta.errors.E_AUTH).toBe(60);
    const summary = await s.readSummary(s.storeFor(started.outputUrl), started.runId);
    expect(summary).toMatchObject({ status: 'aborted', stopReason: 'E_AUTH' });
    expect(JSON.stringify(summary)).not.toContain('not-the-key');
  });

  it('cancel records queued items cancelled without calling the model; in-flight calls are kept', async () => {
    const s = await stack({ concurrency: 2 });
    await s.startWorkers();
    const started = await s.start(
      await s.writeJob({ catalogCsv: productCsv(40), job: { prompt: 'Photo of {{title}} [[emu:latency=100ms]]' } }),
    );
    while ((await s.plane.runs.getMeta(started.runId))!.counts.succeeded < 4) await new Promise((r) => setTimeout(r, 20));
    await cancelRun(s.plane.runs, s.plane.queues, started.runId);
    const meta = await s.waitForRun(started.runId);
    expect(meta.status).toBe('cancelled');
    expect(meta.counts.succeeded + meta.counts.cancelled).toBe(40);
    expect(meta.counts.cancelled).toBeGreaterThan(20);
    expect(generated(s)).toBe(meta.counts.succeeded);
    const manifest = (await s.readManifest(s.storeFor(started.outputUrl), started.runId)) as ManifestItemLine[];
    expect(manifest.filter((l) => l.status === 'cancelled').every((l) => l.errorCode === 'E_CANCELLED')).toBe(true);
    // Deliveries take the output claim in the script that reads the run's control fields; one
    // that found the run stopped gave it back: no claim outlives the run.
    expect(await s.plane.redis.keys(`${s.prefix}:claim:*`)).toEqual([]);
  });

  it('a budget stops spending at the limit', async () => {
    const s = await stack({ concurrency: 4 });
    await s.startWorkers();
    const started = await s.start(
      await s.writeJob({ catalogCsv: productCsv(30), job: { pricing: { usdPerImage: 0.05 }, budget: { maxUsd: 0.25 } } }),
    );
    const meta = await s.waitForRun(started.runId);
    expect(meta.status).toBe('failed');
    expect(meta.stop).toBe('E_BUDGET');
    expect(meta.counts).toEqual({ succeeded: 5, failed: 0, skipped: 0, cancelled: 25 });
    expect(generated(s)).toBe(5);
    expect(meta.costUsd).toBeCloseTo(0.25, 9);
  });

  it('calls with an unknown outcome (timed out) stay counted against the budget: it is a hard cap', async () => {
    const s = await stack({ concurrency: 1 });
    await s.startWorkers();
    const job = { pricing: { usdPerImage: 0.05 }, budget: { maxUsd: 0.15 }, sync: { attempts: 1, timeoutMs: '300ms', backoff: { initialMs: 50, maxMs: 200, jitter: 0 } } };
    const started = await s.start(await s.writeJob({ catalogCsv: productCsv(10, (i) => `Product ${i} [[emu:hang]]`), job }));
    const meta = await s.waitForRun(started.runId);
    expect(meta.stop).toBe('E_BUDGET');
    // Three calls may have been billed (0.15 / 0.05): no fourth is made, although none is known to have cost anything.
    expect(s.emulator.requestLog.count({ route: 'generateContent' })).toBe(3);
    expect(meta.counts).toEqual({ succeeded: 0, failed: 3, skipped: 0, cancelled: 7 });
    expect(meta.costUsd).toBe(0);
    const summary = await s.readSummary(s.storeFor(started.outputUrl), started.runId);
    expect(summary).toMatchObject({ costUsd: 0, costUpperBoundUsd: 0.15, errors: { E_TIMEOUT: 3, E_BUDGET: 7 } });
  });
});

describe('bad catalog rows', () => {
  it('are reported with line and field and listed in the manifest; the run goes on', async () => {
    const s = await stack();
    await s.startWorkers();
    const csv = ['sku,title', 'A1,Lamp', ',No key', 'A2,"Multi', 'line title"', 'A1,Duplicate', 'A3,', 'A4,Chair'].join('\n') + '\n';
    const started = await s.start(await s.writeJob({ catalogCsv: csv }));
    expect(started).toMatchObject({ items: 3, rejected: 3 });
    const meta = await s.waitForRun(started.runId);
    expect(meta).toMatchObject({ status: 'succeeded', rejected: 3, counts: { succeeded: 3 } });
    const manifest = await s.readManifest(s.storeFor(started.outputUrl), started.runId);
    const rejected = manifest.filter((l): l is ManifestRejectedLine => l.status === 'rejected');
    expect(rejected.map((l) => [l.line, l.field, l.errorCode])).toEqual([
      [3, 'sku', 'E_CATALOG_ROW'],
      [6, 'sku', 'E_CATALOG_ROW'],
      [7, 'title', 'E_CATALOG_ROW'],
    ]);
    expect(manifest.filter((l) => l.status === 'succeeded').map((l) => l.key).sort()).toEqual(['A1', 'A2', 'A4']);
  });
});
