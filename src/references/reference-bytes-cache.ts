import { createHash } from 'node:crypto';
import { BunchError } from '../errors/bunch-error.js';
import type { ObjectStore } from '../storage/object-store.js';
import { referenceObjectKey } from './reference-object-key.js';

/**
 * A worker's recently used reference images, by content hash, bounded by total bytes (least
 * recently used dropped first). Many items share one product photo, so most reads are served
 * from here instead of storage. Bytes are checked against their hash when read: storage that
 * returns something else would otherwise be paid for.
 */
export class ReferenceBytesCache {
  private readonly entries = new Map<string, Buffer>();
  /** Reads under way: items of one product starting together share one read, not one each. */
  private readonly reading = new Map<string, Promise<Buffer>>();
  private total = 0;

  constructor(private readonly maxBytes = 64 * 1024 * 1024) {}

  async get(store: ObjectStore, sha256: string): Promise<Buffer> {
    const cacheKey = `${store.url}\n${sha256}`;
    const hit = this.entries.get(cacheKey);
    if (hit) {
      this.entries.delete(cacheKey);
      this.entries.set(cacheKey, hit);
      return hit;
    }
    let pending = this.reading.get(cacheKey);
    if (!pending) {
      pending = this.read(store, sha256)
        .then((bytes) => {
          this.remember(cacheKey, bytes);
          return bytes;
        })
        .finally(() => this.reading.delete(cacheKey));
      this.reading.set(cacheKey, pending);
    }
    return pending;
  }

  private async read(store: ObjectStore, sha256: string): Promise<Buffer> {
    const key = referenceObjectKey(sha256);
    const bytes = await store.get(key);
    if (!bytes) {
      throw new BunchError('E_REFERENCE', `reference image ${sha256.slice(0, 12)}… is missing from storage (${key}); plan the run again`, {
        reason: 'not-found',
      });
    }
    const actual = createHash('sha256').update(bytes).digest('hex');
    if (actual !== sha256) {
      throw new BunchError('E_STORAGE', `stored reference ${key} does not match its hash (got ${actual.slice(0, 12)}…)`, { retryable: false });
    }
    return bytes;
  }

  private remember(cacheKey: string, bytes: Buffer): void {
    if (bytes.length > this.maxBytes) return;
    // Counted once per entry: before, a key remembered again (concurrent misses) was added to the
    // total each time, until the cache evicted everything it was given and served nothing.
    const previous = this.entries.get(cacheKey);
    if (previous) this.total -= previous.length;
    this.entries.set(cacheKey, bytes);
    this.total += bytes.length;
    for (const [oldest, value] of this.entries) {
      if (this.total <= this.maxBytes) break;
      this.entries.delete(oldest);
      this.total -= value.length;
    }
  }
}
