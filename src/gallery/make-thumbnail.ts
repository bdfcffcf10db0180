import sharp from 'sharp';
import type { ObjectStore } from '../storage/object-store.js';

/**
 * A WebP thumbnail of a stored image, streamed: the object is piped from storage into sharp and
 * the thumbnail (a few KB) is the only buffer kept, so memory does not grow with image size.
 * Undefined when the object is gone or is not an image (the tile then shows why, not a broken image).
 */
export const THUMB_SIZE = 320;

export async function makeThumbnail(store: ObjectStore, key: string): Promise<Buffer | undefined> {
  const source = await store.getStream(key);
  if (!source) return undefined;
  const resize = sharp({ failOn: 'error', limitInputPixels: 16384 * 16384 })
    .resize(THUMB_SIZE, THUMB_SIZE, { fit: 'inside', withoutEnlargement: true })
    .webp({ quality: 70 });
  source.on('error', (error) => resize.destroy(error));
  try {
    return await source.pipe(resize).toBuffer();
  } catch {
    source.destroy();
    return undefined;
  }
}
