import { createHash } from 'node:crypto';
import { RESERVED_KEY_PREFIX } from '../storage/reserved-key-prefix.js';

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

/**
 * What fetched bytes were normalised to, remembered by the hash of the fetched bytes and the
 * normalising settings (`_bunch/refs/sources/<sha256>.json`), so an unchanged photo is not decoded
 * again on every nightly run. A JSON record of the stored reference (sha256, type, size).
 */
export function referenceSourceKey(fetchedSha256: string, settings: string): string {
  const digest = createHash('sha256').update(`${fetchedSha256}\n${settings}`).digest('hex');
  return `${REFERENCE_KEY_PREFIX}sources/${digest}.json`;
}

/** The normalising settings that change the output; part of the source key. Bump the version when normalising changes. */
export function normalizeSettings(longestSide: number | undefined): string {
  return `v1;longestSide=${longestSide ?? 'none'}`;
}
