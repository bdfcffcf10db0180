/** Longest best-effort text returned for something that does not parse as a URL. */
const UNPARSED_LIMIT = 200;

/**
 * A URL as it may appear in messages, logs and the manifest: no query string, no fragment, no
 * user name or password. Signed URLs (S3 presigned, CDN tokens) carry their secret in the query,
 * and userinfo is a credential by definition. Never throws: text that is not a URL comes back
 * query-stripped, without control characters and truncated, so a bad catalog cell can still be
 * named in the error that reports it.
 */
export function displayUrl(url: string | URL): string {
  let parsed: URL | undefined;
  try {
    parsed = new URL(typeof url === 'string' ? url : url.href);
  } catch {
    parsed = undefined;
  }
  if (parsed !== undefined) {
    // Setting these on a URL with an opaque path (mailto:) is a no-op, never an error.
    parsed.username = '';
    parsed.password = '';
    parsed.search = '';
    parsed.hash = '';
    return parsed.href;
  }
  const text = String(url)
    .replace(/[?#].*$/s, '')
    .replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/]*@/i, '$1')
    .replace(/[\u0000-\u001f\u007f]/g, '')
    .trim();
  return text.length > UNPARSED_LIMIT ? `${text.slice(0, UNPARSED_LIMIT)}…` : text;
}
