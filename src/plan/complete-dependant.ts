import type { StoredReference } from '../references/item-reference.js';
import { referencePlaceholder } from '../references/reference-placeholder.js';
import { computeInputHash, fillHash, markerKey } from './item-identity.js';
import type { GenerateContentRequest } from '../gemini/generate-content-request.js';
import type { PlannedItem } from './planned-item.js';

/**
 * Finishes a dependant variant (`from: <hero>`) once its hero's image is stored: the hero image
 * goes into the request as the first image after the prompt (before the row's own references),
 * so the inputHash now covers the hero's bytes — a regenerated hero regenerates its variants —
 * and the object keys and marker take that hash. Pure.
 */
export function completeDependant<T extends Omit<PlannedItem, 'request'>>(
  target: T,
  request: GenerateContentRequest,
  hero: StoredReference,
): { target: T; request: GenerateContentRequest } {
  if (!target.from) return { target, request };
  const heroPart = referencePlaceholder(hero.sha256, hero.mimeType);
  const [first, ...rest] = request.contents;
  const parts = first ? [...first.parts] : [];
  const textParts = parts.filter((part) => 'text' in part).length;
  parts.splice(Math.max(1, textParts), 0, heroPart);
  const completedRequest: GenerateContentRequest = { ...request, contents: [{ role: 'user', ...first, parts }, ...rest] };
  const inputHash = computeInputHash(target.model, completedRequest, target.steps);
  const completed: T = {
    ...target,
    inputHash,
    objectKey: fillHash(target.objectKey, inputHash),
    captionKey: fillHash(target.captionKey, inputHash),
    markerKey: markerKey(target.itemKey, inputHash),
    references: [{ ...hero, source: `variant:${target.from.variant}`, role: 'object' as const }, ...(target.references ?? [])],
    from: { ...target.from, heroSha256: hero.sha256 },
  };
  return { target: completed, request: completedRequest };
}
