import type { ObjectStore } from '../storage/object-store.js';
import type { OutputMarker } from './output-marker.js';

/**
 * The outputs a marker names that no longer stand for it: gone (a lifecycle rule, a delete by
 * hand), or written since for another input of the same item — a key template without `{{hash}}`
 * gives every input of an item the same keys, so a row that changes A → B → A finds A's marker
 * beside B's image. Each output carries the input it was made for (`inputhash` metadata); one
 * without it (written before outputs carried it) is taken as the marker says. One HEAD an output.
 */
export async function staleOutputs(store: ObjectStore, marker: OutputMarker): Promise<{ checked: number; stale: string[] }> {
  const keys = [marker.image?.key, marker.caption?.key].filter((key): key is string => key !== undefined);
  const found = await Promise.all(keys.map((key) => store.head(key)));
  const stale = keys.filter((_, i) => {
    const info = found[i];
    if (info === undefined) return true;
    const madeFor = info.metadata.inputhash;
    return madeFor !== undefined && madeFor !== marker.inputHash;
  });
  return { checked: keys.length, stale };
}
