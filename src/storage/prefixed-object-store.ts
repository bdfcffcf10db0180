import type { Readable } from 'node:stream';
import { assertStorableKey } from './assert-storable-key.js';
import type { ListOptions, ObjectInfo, ObjectStore, PutOptions } from './object-store.js';

/**
 * A view of `store` under a sub-prefix, e.g. `runs/<runId>` of the output store. Keys given to the
 * view are relative to the prefix. Closing the view does not close the underlying store.
 */
export function prefixedObjectStore(store: ObjectStore, prefix: string): ObjectStore {
  const base = assertStorableKey(prefix.replace(/^\/+|\/+$/g, ''));
  const full = (key: string): string => `${base}/${assertStorableKey(key)}`;
  const view: ObjectStore = {
    url: `${store.url}/${base}`,
    // async so that a refused key rejects like every other store failure instead of throwing.
    put: async (key: string, body: Buffer | string | Readable, options?: PutOptions) => store.put(full(key), body, options),
    get: async (key: string) => store.get(full(key)),
    getStream: async (key: string) => store.getStream(full(key)),
    head: async (key: string): Promise<ObjectInfo | undefined> => {
      const info = await store.head(full(key));
      return info === undefined ? undefined : { ...info, key };
    },
    delete: async (key: string) => store.delete(full(key)),
    list: async function* (listPrefix: string, options?: ListOptions): AsyncIterable<string> {
      const skip = options?.skip?.map((prefix) => `${base}/${prefix}`);
      for await (const key of store.list(`${base}/${listPrefix}`, skip ? { skip } : {})) yield key.slice(base.length + 1);
    },
    uriFor: (key: string) => store.uriFor(full(key)),
    close: async () => {},
  };
  const existsSync = store.existsSync?.bind(store);
  if (existsSync) view.existsSync = (key: string) => existsSync(full(key));
  if (store.localDirectory !== undefined) return { ...view, localDirectory: `${store.localDirectory}/${base}` };
  return view;
}
