import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PNG } from 'pngjs';
import type { ManifestItemLine } from '../../../src/manifest/manifest-line.js';
import { productCsv, startBunchStack, type BunchStack } from '../../helpers/bunch-stack.js';

describe('sync lane end to end, local directory storage', () => {
  let stack: BunchStack;
  beforeAll(async () => {
    stack = await startBunchStack({ concurrency: 16 });
    await stack.startWorkers();
  });
  afterAll(async () => stack?.stop());

  it('generates a 200-row catalog; the manifest matches what is stored, each item exactly once', async () => {
    const jobFile = await stack.writeJob({ catalogCsv: productCsv(200) });
    const started = await stack.start(jobFile);
    expect(started).toMatchObject({ items: 200, enqueued: 200, skipped: 0, rejected: 0 });
    const meta = await stack.waitForRun(started.runId);
    expect(meta.status).toBe('succeeded');
    expect(meta.counts).toEqual({ succeeded: 200, failed: 0, skipped: 0, cancelled: 0 });

    const store = stack.storeFor(started.outputUrl);
    const manifest = (await stack.readManifest(store, started.runId)) as ManifestItemLine[];
    expect(manifest).toHaveLength(200);
    expect(new Set(manifest.map((line) => line.index)).size).toBe(200);
    expect(new Set(manifest.map((line) => line.key)).size).toBe(200);
    for (const line of manifest.slice(0, 40)) {
      expect(line).toMatchObject({ schemaVersion: 1, status: 'succeeded', lane: 'sync', variant: 'main', attempts: 1 });
      const image = line.image!;
      const bytes = await store.get(image.key);
      expect(bytes).toBeDefined();
      expect(bytes!.length).toBe(image.bytes);
      expect(createHash('sha256').update(bytes!).digest('hex')).toBe(image.sha256);
      const png = PNG.sync.read(bytes!);
      expect([png.width, png.height]).toEqual([512, 512]);
      expect([image.width, image.height]).toEqual([512, 512]);
      expect(image.key).toBe(`${line.key}/main-${line.inputHash.slice(0, 12)}.png`);
      const caption = await store.get(line.caption!.key);
      expect(caption!.toString('utf8')).toBe(line.caption!.text);
    }
    const summary = await stack.readSummary(store, started.runId);
    expect(summary).toMatchObject({ status: 'succeeded', items: 200, counts: { succeeded: 200 }, rejectedRows: 0 });
    expect(summary.costUsd).toBeCloseTo(200 * 0.058, 6);
    // One paid call per item.
    expect(stack.emulator.requestLog.count({ route: 'generateContent', status: 200 })).toBe(200);
  });
});
