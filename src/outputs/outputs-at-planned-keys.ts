import { EXTENSION_PLACEHOLDER, HASH_PLACEHOLDER } from '../plan/item-identity.js';
import type { ItemTarget } from '../plan/planned-item.js';

/** Extensions an image output can be stored under (decode-image.ts's formats). */
const IMAGE_EXTENSIONS: ReadonlySet<string> = new Set(['png', 'jpg', 'webp']);

/**
 * Whether an item's stored outputs lie at the keys it is planned to write now. The marker and
 * the stored-output index are found by item key and inputHash, and the inputHash covers what is
 * sent to the model, not where the answer is stored: a changed `output.key`, or a row field used
 * only in it, leaves them naming the old keys. Such an item is not skipped (it is made again, at
 * its new keys) — before, it was recorded `skipped` beside the old keys and nothing was ever
 * written where the template now points.
 */
export function outputsAtPlannedKeys(
  stored: { image?: { key: string } | undefined; caption?: { key: string } | undefined },
  target: Pick<ItemTarget, 'objectKey' | 'captionKey'>,
): boolean {
  if (stored.image && !atPlannedKey(stored.image.key, target.objectKey)) return false;
  if (stored.caption && !atPlannedKey(stored.caption.key, target.captionKey)) return false;
  return true;
}

/**
 * Whether a stored key is the planned one, `{{ext}}` standing for any image extension. Planning
 * asks this of every row a night skips (a million on a big catalog): the usual key — one `{{ext}}`,
 * its hash filled — is compared as strings; only a dependant's (`{{hash}}` filled later) needs a pattern.
 */
function atPlannedKey(key: string, planned: string): boolean {
  if (!planned.includes('{{')) return key === planned;
  const parts = planned.split(EXTENSION_PLACEHOLDER);
  if (parts.length === 2 && !planned.includes(HASH_PLACEHOLDER)) {
    const [before, after] = parts as [string, string];
    if (key.length <= before.length + after.length || !key.startsWith(before) || !key.endsWith(after)) return false;
    return IMAGE_EXTENSIONS.has(key.slice(before.length, key.length - after.length));
  }
  const pattern = parts.map((part) => part.split(HASH_PLACEHOLDER).map(escapeRegExp).join('[0-9a-f]{12}')).join(`(?:${[...IMAGE_EXTENSIONS].join('|')})`);
  return new RegExp(`^${pattern}$`).test(key);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
