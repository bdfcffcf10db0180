import { Readable } from 'node:stream';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderImage } from '../../../src/emulator/render-image.js';
import { makeThumbnail } from '../../../src/gallery/make-thumbnail.js';
import type { ObjectStore } from '../../../src/storage/object-store.js';
import { openObjectStore } from '../../../src/storage/open-object-store.js';
import { tempDir, type TempDir } from '../../../src/local/temp-dir.js';

/** Thumbnails from a real local store; a read that breaks off is a storage fault, not a bad image. */
describe('makeThumbnail', () => {
  let dir: TempDir;
  let store: ObjectStore;
  beforeAll(async () => {
    dir = await tempDir('thumbs');
    store = openObjectStore(`file://${dir.path}`, {});
    await store.put('a/good.png', await renderImage({ width: 1024, height: 768, seedMaterial: 'x' }));
    await store.put('a/not-an-image.png', 'plain text, not a picture');
  });
  afterAll(async () => {
    await store.close();
    await dir.remove();
  });

  it('makes a WebP of at most 320 px; an object that is gone or not an image gives none', async () => {
    const thumb = (await makeThumbnail(store, 'a/good.png'))!;
    const metadata = await sharp(thumb).metadata();
    expect([metadata.format, metadata.width, metadata.height]).toEqual(['webp', 320, 240]);
    expect(await makeThumbnail(store, 'a/missing.png')).toBeUndefined();
    expect(await makeThumbnail(store, 'a/not-an-image.png')).toBeUndefined();
  });

  it('lets a read that fails half-way through surface, so the gallery job is retried', async () => {
    const good = (await store.get('a/good.png'))!;
    const breaking: ObjectStore = Object.create(store) as ObjectStore;
    breaking.getStream = async () =>
      new Readable({
        read() {
          this.push(good.subarray(0, 200));
          this.destroy(new Error('connection reset by the storage'));
        },
      });
    await expect(makeThumbnail(breaking, 'a/good.png')).rejects.toThrow('connection reset by the storage');
  });
});
