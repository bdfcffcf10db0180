import { EXTENSION_PLACEHOLDER, HASH_PLACEHOLDER } from '../plan/item-identity.js';
import type { ItemTarget } from '../plan/planned-item.js';

/** Extensions an image output can be stored under (decode-image.ts's formats). */
const IMAGE_EXTENSIONS = '(?:png|jpg|webp)';

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
  if (stored.image && !keyPattern(target.objectKey).test(stored.image.key)) return false;
  if (stored.caption && !keyPattern(target.captionKey).test(stored.caption.key)) return false;
  return true;
}

/** A planned key as a pattern: `{{ext}}` any image extension, `{{hash}}` (a dependant's, filled later) any hash. */
function keyPattern(planned: string): RegExp {
  const escaped = planned.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const ext = escapeOf(EXTENSION_PLACEHOLDER);
  const hash = escapeOf(HASH_PLACEHOLDER);
  return new RegExp(`^${escaped.replaceAll(ext, IMAGE_EXTENSIONS).replaceAll(hash, '[0-9a-f]{12}')}$`);
}

function escapeOf(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
