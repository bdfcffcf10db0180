import type { ImageModelInfo } from '../gemini/model-catalog.js';
import { GoogleApiError } from './google-error.js';

/**
 * The per-model cap on input images (`maxReferenceImages` in the model table), counting inline
 * and fileData parts alike, in every turn. The documented object/character split cannot be
 * checked: a part carries no role. Over the cap → 400 INVALID_ARGUMENT; Google publishes no text
 * for this error, so the message just says what was wrong.
 */
export function checkReferenceImageLimit(model: ImageModelInfo, count: number): void {
  if (count <= model.maxReferenceImages) return;
  const message = `Too many input images: the request has ${count}, but ${model.id} accepts at most ${model.maxReferenceImages} per request.`;
  throw new GoogleApiError(400, 'INVALID_ARGUMENT', message, [
    { '@type': 'type.googleapis.com/google.rpc.BadRequest', fieldViolations: [{ field: 'contents', description: message }] },
  ]);
}
