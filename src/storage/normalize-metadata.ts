/**
 * S3 stores user metadata as `x-amz-meta-*` headers, which come back lower-cased. Both adapters
 * lower-case keys on write so that what `head` returns is the same on every store.
 */
export function normalizeMetadata(metadata: Record<string, string> | undefined): Record<string, string> {
  const normalized: Record<string, string> = {};
  for (const [key, value] of Object.entries(metadata ?? {})) normalized[key.toLowerCase()] = value;
  return normalized;
}

/** Used when a caller gives no content type, so that `head` answers the same on every store. */
export const DEFAULT_CONTENT_TYPE = 'application/octet-stream';
