import { createHash } from 'node:crypto';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ReferenceBytesCache } from '../../../src/references/reference-bytes-cache.js';
import { referenceObjectKey } from '../../../src/references/reference-object-key.js';
import { openObjectStore } from '../../../src/storage/open-object-store.js';
import type { ObjectStore } from '../../../src/storage/object-store.js';
import { countingStore } from '../../helpers/counting-store.js';
import { tempDir, type TempDir } from '../../helpers/temp-dir.js';

/**
 * The sync lane's cache of reference bytes, with many items of one product starting together:
 * concurrent misses share one read, and an entry is counted once. Before: 32 reads for one burst,
 * and the burst's 32 counts of one entry pushed the cache's total past its bound for good, so it
 * evicted everything it was given and every later call read storage again.
 */
describe('ReferenceBytesCache with many items sharing one photo at once (sync lane, concurrency 32)', () => {
  let dir: TempDir;
  let store: ObjectStore;
  beforeEach(async () => {
    dir = await tempDir('review-refs-cache');
    store = openObjectStore(`file://${path.join(dir.path, 'out')}`);
  });
  afterEach(async () => {
    await store.close();
    await dir.remove();
  });

  it('keeps serving photos from memory after a burst of concurrent misses', async () => {
    const photo = (n: number) => Buffer.alloc(1024 * 1024, n); // 1 MiB "photos"
    const shas: string[] = [];
    for (let n = 0; n < 3; n += 1) {
      const bytes = photo(n);
      const sha = createHash('sha256').update(bytes).digest('hex');
      await store.put(referenceObjectKey(sha), bytes);
      shas.push(sha);
    }
    const counted = countingStore(store);
    const cache = new ReferenceBytesCache(8 * 1024 * 1024); // room for all three photos many times over
    // 32 items of one product start together: one read between them.
    await Promise.all(Array.from({ length: 32 }, () => cache.get(counted.store, shas[0] as string)));
    const burstReads = counted.calls.get.length;
    // Afterwards the three photos are used over and over: they fit, so each is read once (two more reads).
    for (let round = 0; round < 5; round += 1) for (const sha of shas) await cache.get(counted.store, sha);
    const laterReads = counted.calls.get.length - burstReads;
    expect({ burstReads, laterReads }).toEqual({ burstReads: 1, laterReads: 2 });
  });

  it('a failed read is not remembered: the next call reads again', async () => {
    const bytes = Buffer.alloc(1024, 7);
    const sha = createHash('sha256').update(bytes).digest('hex');
    const cache = new ReferenceBytesCache(8 * 1024 * 1024);
    const missing = await Promise.all(Array.from({ length: 4 }, () => cache.get(store, sha).catch((error: { code?: string }) => error.code)));
    expect(missing).toEqual(['E_REFERENCE', 'E_REFERENCE', 'E_REFERENCE', 'E_REFERENCE']);
    await store.put(referenceObjectKey(sha), bytes);
    expect((await cache.get(store, sha)).equals(bytes)).toBe(true);
  });
});
