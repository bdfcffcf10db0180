import { createHash } from 'node:crypto';
import { writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ManifestItemLine, ManifestLine, ManifestRejectedLine } from '../../../src/manifest/manifest-line.js';
import { referenceObjectKey } from '../../../src/references/reference-object-key.js';
import { startBunchStack, type BunchStack } from '../../helpers/bunch-stack.js';
import { meanColor, solidImage, startImageServer, type ImageServer } from '../../helpers/image-server.js';

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const items = (manifest: ManifestLine[]) => manifest.filter((line): line is ManifestItemLine => line.status !== 'rejected');
const rejected = (manifest: ManifestLine[]) => manifest.filter((line): line is ManifestRejectedLine => line.status === 'rejected');

describe('reference images on the sync lane, fetched from a real HTTP server and the local disk', () => {
  let stack: BunchStack;
  let photos: ImageServer;
  const red = { r: 220, g: 20, b: 20 };
  const blue = { r: 20, g: 20, b: 220 };

  beforeAll(async () => {
    stack = await startBunchStack({ concurrency: 8 });
    await stack.startWorkers();
    photos = await startImageServer();
  });
  afterAll(async () => {
    await photos?.close();
    await stack?.stop();
  });

  async function job(catalogCsv: string, extra: Record<string, unknown> = {}) {
    return stack.writeJob({
      catalogCsv,
      job: {
        prompt: 'Lifestyle photo of {{title}} on a linen tablecloth',
        references: { sources: ['photo'], allowHosts: ['localhost'], timeout: '3s' },
        ...extra,
      },
    });
  }

  it('sends every row its photos; bad references reject only their row, before any call; a shared URL is fetched once', async () => {
    const redPng = await solidImage(red);
    photos.serve('/shared/red.png', redPng);
    photos.serve('/hop3.png', await solidImage(blue, { format: 'jpeg' }), 'image/jpeg');
    photos.redirect('/hop1', '/hop2');
    photos.redirect('/hop2', '/hop3.png', 301);
    photos.redirect('/to-loopback', `${photos.url}/shared/red.png`);
    photos.serve('/page.html', Buffer.from('<!doctype html><html>not an image</html>'), 'text/html');
    photos.serve('/huge.png', Buffer.alloc(3 * 1024 * 1024, 1));
    photos.stall('/slow.png');
    await mkdir(path.join(stack.dir.path, 'photos'), { recursive: true });
    await writeFile(path.join(stack.dir.path, 'photos', 'local.webp'), await solidImage(blue, { format: 'webp' }));

    const named = photos.namedUrl;
    const csv = [
      'sku,title,photo',
      `A1,Mug 1,${named}/shared/red.png`,
      `A2,Mug 2,${named}/shared/red.png?cb=2`,
      `A3,Mug 3,${named}/shared/red.png`,
      `A4,Mug 4,"${named}/shared/red.png|${named}/hop1"`,
      `B1,Bowl,photos/local.webp`,
      `X1,Missing,${named}/nope.png?X-Amz-Signature=s3cretsig`,
      `X2,Page,${named}/page.html`,
      `X3,Huge,${named}/huge.png`,
      `X4,Slow,${named}/slow.png`,
      `X5,Loopback,${named}/to-loopback`,
      `X6,Direct,${photos.url}/shared/red.png`,
      `X7,Outside,../../etc/passwd`,
      `T1,Text only,`,
    ].join('\n');
    const started = await stack.start(await job(csv, { references: { sources: ['photo'], allowHosts: ['localhost'], timeout: '2s', maxBytes: '2MB' } }));
    expect(started).toMatchObject({ items: 6, enqueued: 6, rejected: 7 });
    const meta = await stack.waitForRun(started.runId);
    expect(meta.counts).toEqual({ succeeded: 6, failed: 0, skipped: 0, cancelled: 0 });

    // Fetched once for the whole run, whatever the query string.
    expect(photos.hits('/shared/red.png')).toBe(2); // `?cb=2` is another URL (could be another object), fetched once too
    expect(photos.hits('/hop1')).toBe(1);
    expect(photos.hits('/hop3.png')).toBe(1);

    const store = stack.storeFor(started.outputUrl);
    const manifest = await stack.readManifest(store, started.runId);
    const byKey = new Map(items(manifest).map((line) => [line.key, line]));
    const redSha = sha256(redPng);
    expect(byKey.get('A1')?.references).toEqual([
      { sha256: redSha, mimeType: 'image/png', bytes: redPng.length, width: 64, height: 64, source: `${named}/shared/red.png`, role: 'object' },
    ]);
    // The same bytes under a cache-busting URL: same reference, same inputHash as A1's request would have with its own prompt.
    expect(byKey.get('A2')?.references?.[0]).toMatchObject({ sha256: redSha, source: `${named}/shared/red.png` });
    expect(byKey.get('A4')?.references?.map((reference) => [reference.mimeType, reference.source])).toEqual([
      ['image/png', `${named}/shared/red.png`],
      ['image/jpeg', `${named}/hop1`], // as the catalog names it, not where its redirects led
    ]);
    expect(byKey.get('B1')?.references?.[0]).toMatchObject({ mimeType: 'image/webp', source: 'photos/local.webp' });
    expect(byKey.get('T1')?.references).toBeUndefined();

    // Stored once by content; the model received exactly these bytes, inline, after the prompt.
    expect(sha256((await store.get(referenceObjectKey(redSha)))!)).toBe(redSha);
    const received = stack.emulator.requestLog
      .list({ route: 'generateContent', status: 200 })
      .map((entry) => (entry.inputImages ?? []).map((image) => [image.via, image.mimeType, image.sha256]))
      .sort((a, b) => b.length - a.length);
    const a4 = byKey.get('A4')!.references!;
    expect(received[0]).toEqual(a4.map((reference) => ['inline', reference.mimeType, reference.sha256]));
    expect(received.map((inputs) => inputs.length)).toEqual([2, 1, 1, 1, 1, 0]);

    // Image-to-image: the emulator tints a copy of the first input, so the red product stays red.
    const a1 = await meanColor((await store.get(byKey.get('A1')!.image!.key))!);
    expect(a1.r).toBeGreaterThan(a1.b + 60);

    const reasons = Object.fromEntries(rejected(manifest).map((line) => [line.key, [line.errorCode, line.field, line.errorMessage]]));
    const direct = photos.url;
    expect(reasons).toEqual({
      X1: ['E_REFERENCE', 'photo', `reference ${named}/nope.png was not found (HTTP 404)`],
      X2: [
        'E_REFERENCE',
        'photo',
        `reference ${named}/page.html: unsupported image type: looks like HTML/text (often an error or login page served instead of the image); ` +
          'accepted types are PNG, JPEG, WebP, HEIC/HEIF, and GIF or AVIF (converted to PNG)',
      ],
      X3: ['E_REFERENCE', 'photo', `reference ${named}/huge.png declares 3145728 bytes, more than 2097152 (references.maxBytes)`],
      X4: ['E_REFERENCE', 'photo', `reference ${named}/slow.png took longer than 2000 ms in total (references.timeout)`],
      X5: [
        'E_REFERENCE',
        'photo',
        `reference ${named}/to-loopback (redirect 1 to ${direct}/shared/red.png) names 127.0.0.1 (loopback); refused by the address guard (allow it with references.allowHosts)`,
      ],
      X6: ['E_REFERENCE', 'photo', `reference ${direct}/shared/red.png names 127.0.0.1 (loopback); refused by the address guard (allow it with references.allowHosts)`],
      X7: ['E_REFERENCE', 'photo', `reference "../../etc/passwd" is outside the catalog's directory; local references must sit in or below it`],
    });
    // Each with its stable tag, to group rejected rows by.
    expect(Object.fromEntries(rejected(manifest).map((line) => [line.key, line.errorReason]))).toEqual({
      X1: 'not-found',
      X2: 'unsupported-type',
      X3: 'too-large',
      X4: 'timeout',
      X5: 'blocked-address',
      X6: 'blocked-address',
      X7: 'bad-location',
    });
    // Signed URLs are secrets: no query string anywhere in what the run wrote.
    expect(JSON.stringify(manifest)).not.toContain('s3cretsig');

    const summary = await stack.readSummary(store, started.runId);
    expect(summary).toMatchObject({ rejectedRows: 7, rejectedByCode: { E_REFERENCE: 7 } });
    // Nothing was paid for a rejected row: one call per item.
    expect(stack.emulator.requestLog.count({ route: 'generateContent', status: 200 })).toBe(6);
  });

  it('a nightly re-run regenerates exactly the products whose photo changed at the same URL', async () => {
    photos.serve('/night/a.png', await solidImage({ r: 200, g: 200, b: 30 }));
    photos.serve('/night/b.png', await solidImage({ r: 30, g: 200, b: 30 }));
    const named = photos.namedUrl;
    const csv = ['sku,title,photo', `N1,Lamp,${named}/night/a.png`, `N2,Vase,${named}/night/b.png`, `N3,Vase 2,${named}/night/b.png`].join('\n');
    const jobFile = await job(csv);
    const first = await stack.start(jobFile);
    expect((await stack.waitForRun(first.runId)).counts).toMatchObject({ succeeded: 3 });
    const callsAfterFirst = stack.emulator.requestLog.count({ route: 'generateContent', status: 200 });

    // Same URL, new photo of the vase.
    photos.serve('/night/b.png', await solidImage({ r: 30, g: 30, b: 200 }));
    const second = await stack.start(jobFile);
    const meta = await stack.waitForRun(second.runId);
    expect(meta.counts).toEqual({ succeeded: 2, failed: 0, skipped: 1, cancelled: 0 });
    const manifest = items(await stack.readManifest(stack.storeFor(second.outputUrl), second.runId));
    expect(Object.fromEntries(manifest.map((line) => [line.key, line.status]))).toEqual({ N1: 'skipped', N2: 'succeeded', N3: 'succeeded' });
    expect(stack.emulator.requestLog.count({ route: 'generateContent', status: 200 }) - callsAfterFirst).toBe(2);
  });
});
