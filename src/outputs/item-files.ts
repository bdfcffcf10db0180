import { RESULT_MARKER_PREFIX } from '../plan/item-identity.js';
import { RESERVED_KEY_PREFIX } from '../storage/reserved-key-prefix.js';

/**
 * An item's own folder for what is not its output: the full grounding metadata, saved thoughts,
 * the turns of a multi-turn edit. Derived from the marker key, so it is unique per (item, input)
 * and a later run with the same input finds the same files.
 */
export const ITEM_FILES_PREFIX = `${RESERVED_KEY_PREFIX}items/`;

export function itemFileKey(markerKey: string, name: string): string {
  if (!markerKey.startsWith(RESULT_MARKER_PREFIX) || !markerKey.endsWith('.json')) throw new Error(`not a marker key: ${markerKey}`);
  const folder = markerKey.slice(RESULT_MARKER_PREFIX.length, -'.json'.length);
  return `${ITEM_FILES_PREFIX}${folder}/${name}`;
}
