import { cp, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ManifestItemLine, ManifestLine } from '../../../src/manifest/manifest-line.js';
import { startBunchStack, type BunchStack } from '../../helpers/bunch-stack.js';

const jobsDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../jobs');
const items = (manifest: ManifestLine[]) => manifest.filter((line): line is ManifestItemLine => line.status !== 'rejected');

describe('the Shopify example with photos (jobs/shopify-photos.yaml), end to end', () => {
  let stack: BunchStack;
  let jobFile: string;
  beforeAll(async () => {
    stack = await startBunchStack({ concurrency: 8 });
    await stack.startWorkers();
    // A copy of jobs/ so the test can change a photo and write outputs next to it.
    const copy = path.join(stack.dir.path, 'jobs');
    await cp(jobsDir, copy, { recursive: true });
    jobFile = path.join(copy, 'shopify-photos.yaml');
    const text = await readFile(jobFile, 'utf8');
    await writeFile(jobFile, text.replace('url: file://../out/shopify-photos', `url: file://${path.join(stack.dir.path, 'out')}`));
  });
  afterAll(async () => stack?.stop());

  it("generates every variant with its product's photos (image-only rows included); one changed photo regenerates only that product", async () => {
    const first = await stack.start(jobFile);
    // 7 variant rows × (hero, story, banner); the image-only row is folded into its product.
    expect(first).toMatchObject({ items: 21, rejected: 0 });
    expect((await stack.waitForRun(first.runId)).counts).toEqual({ succeeded: 21, failed: 0, skipped: 0, cancelled: 0 });
    const manifest = items(await stack.readManifest(stack.storeFor(first.outputUrl), first.runId));
    const sources = (itemKey: string) => manifest.find((line) => line.itemKey === itemKey)?.references?.map((reference) => reference.source);

    expect(sources('LS-WHT#hero')).toEqual(['photos/linen-shirt-front.jpg', 'photos/linen-shirt-back.jpg']);
    // A variant's own photo first, then the product's.
    expect(sources('LS-SKY#hero')).toEqual(['photos/linen-shirt-sky.jpg', 'photos/linen-shirt-front.jpg', 'photos/linen-shirt-back.jpg']);
    // The jacket's third photo sits on an image-only row after its variants.
    expect(sources('FJ-NVY#hero')).toEqual(['photos/field-jacket-navy.jpg', 'photos/field-jacket-front.jpg', 'photos/field-jacket-detail.jpg']);
    expect(sources('FJ-NVY#story')).toEqual(['variant:hero', 'photos/field-jacket-navy.jpg', 'photos/field-jacket-front.jpg', 'photos/field-jacket-detail.jpg']);
    expect(sources('MUG-MID#banner')?.[0]).toBe('variant:hero');
    const banner = manifest.find((line) => line.itemKey === 'MUG-MID#banner');
    expect([banner?.image?.width, banner?.image?.height]).toEqual([2048, 512]);

    // The merchant re-shoots the jacket detail, same file name: only the jacket's 6 items are made again.
    const detail = path.join(path.dirname(jobFile), 'catalogs/photos/field-jacket-detail.jpg');
    await writeFile(detail, await sharp({ create: { width: 96, height: 96, channels: 3, background: { r: 200, g: 120, b: 40 } } }).jpeg().toBuffer());
    const callsBefore = stack.emulator.requestLog.count({ route: 'generateContent', status: 200 });
    const second = await stack.start(jobFile);
    const meta = await stack.waitForRun(second.runId);
    expect(meta.counts).toEqual({ succeeded: 6, failed: 0, skipped: 15, cancelled: 0 });
    const rerun = items(await stack.readManifest(stack.storeFor(second.outputUrl), second.runId));
    expect(rerun.filter((line) => line.status === 'succeeded').map((line) => line.itemKey).sort()).toEqual(
      ['FJ-NVY#banner', 'FJ-NVY#hero', 'FJ-NVY#story', 'FJ-OLV#banner', 'FJ-OLV#hero', 'FJ-OLV#story'],
    );
    expect(stack.emulator.requestLog.count({ route: 'generateContent', status: 200 }) - callsBefore).toBe(6);
  });
});
