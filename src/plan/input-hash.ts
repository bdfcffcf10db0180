import { createHash } from 'node:crypto';
import { canonicalJson } from './canonical-json.js';
import type { GenerateContentRequest } from '../gemini/generate-content-request.js';

/**
 * The identity of a piece of paid work: hex sha256 of the canonical JSON of `{model, request}`.
 * Anything that can change the output (prompt, system text, model, generation config) is inside
 * the request, so an unchanged hash plus an existing output means there is nothing to pay for.
 */
export function computeInputHash(model: string, request: GenerateContentRequest): string {
  return sha256Hex(canonicalJson({ model, request }));
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}
