import { RESERVED_KEY_PREFIX } from '../storage/reserved-key-prefix.js';
import { sha256Hex } from './input-hash.js';

export const RESULT_MARKER_PREFIX = `${RESERVED_KEY_PREFIX}results/`;

/**
 * The deterministic "done" record of one item: unique per (itemKey, inputHash), so a re-delivered
 * job or a later run finds it with one HEAD and does not pay twice. Fanned out by the first two
 * hex digits of the hash to keep listings of one prefix small.
 */
export function markerKey(itemKey: string, inputHash: string): string {
  return `${RESULT_MARKER_PREFIX}${inputHash.slice(0, 2)}/${inputHash}-${sha256Hex(itemKey).slice(0, 16)}.json`;
}
