import { RESERVED_KEY_PREFIX } from '../plan/marker-key.js';

/**
 * Normalised reference images are stored once per output location under their content hash, so
 * every worker on every machine (and the batch lane's uploader) reads the same bytes, and a photo
 * shared by 5,000 rows is stored once. Redis and job data only ever carry the hash.
 */
export const REFERENCE_KEY_PREFIX = `${RESERVED_KEY_PREFIX}refs/`;

export function referenceObjectKey(sha256: string): string {
  return `${REFERENCE_KEY_PREFIX}${sha256}`;
}

/** Files API upload of a stored reference, remembered beside it so later shards and runs reuse it until it nears expiry. */
export function referenceUploadKey(sha256: string): string {
  return `${REFERENCE_KEY_PREFIX}${sha256}.upload.json`;
}
