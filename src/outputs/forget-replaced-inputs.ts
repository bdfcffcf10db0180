import { markerKey } from '../plan/item-identity.js';
import type { ItemTarget } from '../plan/planned-item.js';
import type { ObjectStore } from '../storage/object-store.js';

const INPUT_HASH = /^[0-9a-f]{64}$/;

/**
 * Keys without `{{hash}}` are shared by every input of an item. Before one input's outputs are
 * written over another's, the other's marker is removed: else it — or the job's stored-output
 * index, which a stopped run does not replace — would go on vouching for that input with these
 * bytes under its keys, and a row that changes back would be skipped beside the wrong image. One
 * HEAD per shared key; a key that names the input's hash is never shared, and costs nothing.
 */
export async function forgetReplacedInputs(store: ObjectStore, target: ItemTarget, keys: readonly string[]): Promise<void> {
  const shared = keys.filter((key) => !key.includes(target.inputHash.slice(0, 12)));
  if (shared.length === 0) return;
  const found = await Promise.all(shared.map((key) => store.head(key)));
  const replaced = new Set<string>();
  for (const info of found) {
    const madeFor = info?.metadata.inputhash;
    if (madeFor !== undefined && madeFor !== target.inputHash && INPUT_HASH.test(madeFor)) replaced.add(madeFor);
  }
  for (const inputHash of replaced) await store.delete(markerKey(target.itemKey, inputHash));
}
