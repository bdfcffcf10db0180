import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import sharp from 'sharp';
import type { ObjectStore } from '../storage/object-store.js';

/**
 * A WebP thumbnail of a stored image, streamed: the object is piped from storage into sharp and
 * the thumbnail (a few KB) is the only buffer kept, so memory does not grow with image size.
 * Undefined when the object is gone or is not an image (the tile then shows why, not a broken
 * image). A read that fails half-way is a storage fault: it is thrown, so the gallery is retried
 * rather than written with tiles that only lacked a working connection.
 */
export const THUMB_SIZE = 320;

export async function makeThumbnail(store: ObjectStore, key: string): Promise<Buffer | undefined> {
  const source = await store.getStream(key);
  if (!source) return undefined;
  let readFailure: unknown;
  source.once('error', (error) => (readFailure = error));
  const chunks: Buffer[] = [];
  const collect = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk);
      done();
    },
  });
  const resize = sharp({ failOn: 'error', limitInputPixels: 16384 * 16384 })
    .resize(THUMB_SIZE, THUMB_SIZE, { fit: 'inside', withoutEnlargement: true })
    .webp({ quality: 70 });
  try {
    // pipeline destroys every stage on the first error and always settles.
    await pipeline(source, resize, collect);
    return Buffer.concat(chunks);
  } catch {
    if (readFailure !== undefined) throw readFailure;
    return undefined;
  }
}
