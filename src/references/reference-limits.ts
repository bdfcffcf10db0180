import type { ImageModelInfo } from '../gemini/model-catalog.js';
import type { ReferenceRole } from './resolved-references.js';

/**
 * How many reference images one request may carry, by role, from the model table. Object and
 * style images share the model's object limit (the API has no role field; "style" is ours).
 */
export interface ReferenceLimits {
  total: number;
  object: number;
  character: number;
}

export function referenceLimitsOf(model: ImageModelInfo): ReferenceLimits {
  const total = model.maxReferenceImages;
  return { total, object: model.maxObjectImages ?? total, character: model.maxCharacterImages ?? total };
}

export function limitKindOf(role: ReferenceRole): 'object' | 'character' {
  return role === 'character' ? 'character' : 'object';
}
