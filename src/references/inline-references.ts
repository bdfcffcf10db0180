import type { GenerateContentRequest } from '../gemini/generate-content-request.js';
import type { ObjectStore } from '../storage/object-store.js';
import type { ReferenceBytesCache } from './reference-bytes-cache.js';
import { replacePlaceholders } from './reference-placeholder.js';

/**
 * The sync lane's request: every reference placeholder becomes `inlineData` with the stored
 * bytes. Built just before the call and dropped after it, so base64 never reaches Redis.
 */
export function inlineReferences(request: GenerateContentRequest, store: ObjectStore, cache: ReferenceBytesCache): Promise<GenerateContentRequest> {
  return replacePlaceholders(request, async (sha256, mimeType) => ({
    inlineData: { mimeType, data: (await cache.get(store, sha256)).toString('base64') },
  }));
}
