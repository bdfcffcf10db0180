import { GoogleApiError } from '../google-error.js';

export interface ListPage<T> {
  items: T[];
  nextPageToken: string | undefined;
}

/**
 * Cuts one page out of a list by `pageSize` and `pageToken` query parameters. The token is an
 * opaque base64url offset; like Google's, it is only meaningful to the list call that issued it.
 */
export function listPage<T>(all: readonly T[], url: URL, defaultSize: number, maxSize: number): ListPage<T> {
  const sizeParam = url.searchParams.get('pageSize');
  const requested = sizeParam === null || sizeParam === '' ? defaultSize : Number(sizeParam);
  if (!Number.isInteger(requested) || requested < 0) {
    throw new GoogleApiError(400, 'INVALID_ARGUMENT', `Invalid pageSize: ${sizeParam}`);
  }
  const size = requested === 0 ? defaultSize : Math.min(requested, maxSize);
  const token = url.searchParams.get('pageToken');
  let start = 0;
  if (token) {
    start = Number(Buffer.from(token, 'base64url').toString('utf8'));
    if (!Number.isInteger(start) || start < 0) throw new GoogleApiError(400, 'INVALID_ARGUMENT', 'Invalid pageToken.');
  }
  const end = start + size;
  return {
    items: all.slice(start, end),
    nextPageToken: end < all.length ? Buffer.from(String(end), 'utf8').toString('base64url') : undefined,
  };
}
