import { markerKey } from '../plan/item-identity.js';
import type { ItemTarget } from '../plan/planned-item.js';
import type { ObjectStore } from '../storage/object-store.js';

const INPUT_HASH = /^[0-9a-f]{64}$/;

/**
 * Keys without `{{hash}}` are shared by every input of an item — and, when two jobs (or two
 * variants) write the same key template to one location, by other items too. Before one input's
 * outputs are written over another's, the other's marker is removed: else it — or the job's
 * stored-output index, which a stopped run does not replace — would go on vouching for that input
 * with these bytes under its keys, and a row that changes back (or the other job's next run) would
 * be skipped beside the wrong image. The marker is the one the stored object names (its `itemkey`
 * and `inputhash` metadata), not this item's with the old hash: another job's item has another
 * key. One HEAD per shared key; a key that names the input's hash is never shared, and costs nothing.
 */
export async function forgetReplacedInputs(store: ObjectStore, target: ItemTarget, keys: readonly string[]): Promise<void> {
  const shared = keys.filter((key) => !key.includes(target.inputHash.slice(0, 12)));
  if (shared.length === 0) return;
  const found = await Promise.all(shared.map((key) => store.head(key)));
  const replaced = new Map<string, { itemKey: string; inputHash: string }>();
  for (const info of found) {
    const madeFor = info?.metadata.inputhash;
    if (madeFor === undefined || !INPUT_HASH.test(madeFor)) continue;
    const itemKey = storedItemKey(info?.metadata.itemkey) ?? target.itemKey;
    if (itemKey === target.itemKey && madeFor === target.inputHash) continue;
    replaced.set(markerKey(itemKey, madeFor), { itemKey, inputHash: madeFor });
  }
  for (const marker of replaced.keys()) await store.delete(marker);
}

/** The item key an output's metadata names (stored URI-encoded), if it can be read. */
function storedItemKey(encoded: string | undefined): string | undefined {
  if (!encoded) return undefined;
  try {
    return decodeURIComponent(encoded);
  } catch {
    return undefined;
  }
}
