import type { Readable } from 'node:stream';
import type { ObjectInfo, ObjectStore, PutOptions } from '../../src/storage/object-store.js';

export interface StoreCalls {
  get: string[];
  head: string[];
  list: string[];
  put: string[];
  delete: string[];
  /** Keys checked with existsSync (a local directory's one-stat check). */
  exists: string[];
}

/**
 * The same store, with every call's key written down (getStream counts as a get). With
 * `existsSync: false` the view hides the store's existsSync, as a store without it (S3) would;
 * its localDirectory is passed on only with `localDirectory: true`.
 */
export function countingStore(store: ObjectStore, options: { existsSync?: boolean; localDirectory?: boolean } = {}): { store: ObjectStore; calls: StoreCalls } {
  const calls: StoreCalls = { get: [], head: [], list: [], put: [], delete: [], exists: [] };
  const counted: ObjectStore = {
    url: store.url,
    uriFor: (key) => store.uriFor(key),
    put(key: string, body: Buffer | string | Readable, options?: PutOptions) {
      calls.put.push(key);
      return store.put(key, body, options);
    },
    get(key) {
      calls.get.push(key);
      return store.get(key);
    },
    getStream(key) {
      calls.get.push(key);
      return store.getStream(key);
    },
    head(key): Promise<ObjectInfo | undefined> {
      calls.head.push(key);
      return store.head(key);
    },
    delete(key) {
      calls.delete.push(key);
      return store.delete(key);
    },
    list(prefix, options) {
      calls.list.push(prefix);
      return store.list(prefix, options);
    },
    close: () => store.close(),
  };
  const existsSync = store.existsSync?.bind(store);
  if (existsSync && options.existsSync !== false) {
    counted.existsSync = (key) => {
      calls.exists.push(key);
      return existsSync(key);
    };
  }
  // Passed on only when asked: existence checks on the lookup's second thread are not counted.
  if (options.localDirectory && store.localDirectory !== undefined) return { store: { ...counted, localDirectory: store.localDirectory }, calls };
  return { store: counted, calls };
}
