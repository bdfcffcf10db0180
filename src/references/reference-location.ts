import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Where one reference image lives, as a catalog cell or job-file template names it:
 *   https://cdn.example/p/1.jpg   fetched over HTTP(S) through the address guard
 *   s3://bucket/key               read with the storage credentials of the environment
 *   file:///abs/photo.jpg         read from disk ─┐ only inside the catalog's directory tree:
 *   photos/1.jpg                  relative path  ─┘ a catalog must not reach /etc or ~/.ssh
 * `identity` is what one fetch is shared by (the full URL, query included: two signed URLs may
 * name different objects); `display` is safe for logs, errors and the manifest (no query string).
 */
export type ReferenceLocation =
  | { readonly kind: 'http'; readonly url: string; readonly identity: string; readonly display: string }
  | { readonly kind: 's3'; readonly bucket: string; readonly key: string; readonly identity: string; readonly display: string }
  | { readonly kind: 'file'; readonly path: string; readonly identity: string; readonly display: string };

/**
 * A cell may list several locations: separated by `|`, line breaks, or a comma followed by
 * whitespace. A bare comma does not separate: image CDNs put commas inside URLs (`w_800,h_800`).
 */
export function splitReferenceCell(cell: string): string[] {
  return cell
    .split(/\||\r?\n|,\s+/)
    .map((part) => part.trim())
    .filter((part) => part !== '');
}

export function parseReferenceLocation(text: string, baseDir: string): ReferenceLocation | { error: string } {
  const trimmed = text.trim();
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(trimmed)?.[1]?.toLowerCase();
  if (scheme === 'http' || scheme === 'https' || trimmed.startsWith('//')) {
    let url: URL;
    try {
      url = new URL(trimmed.startsWith('//') ? `https:${trimmed}` : trimmed);
    } catch {
      return { error: `"${withoutQuery(trimmed)}" is not a valid URL` };
    }
    const display = displayOf(url);
    return { kind: 'http', url: url.href, identity: url.href, display };
  }
  if (scheme === 's3') {
    const rest = withoutQuery(trimmed.slice('s3://'.length));
    const slash = rest.indexOf('/');
    const bucket = slash === -1 ? rest : rest.slice(0, slash);
    const key = slash === -1 ? '' : rest.slice(slash + 1);
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
      // `key:secret@bucket` is credentials, never a bucket: not quoted back.
      if (bucket.includes('@')) return { error: `s3://…@${rest.slice(rest.lastIndexOf('@', slash === -1 ? rest.length : slash) + 1)} holds credentials before its bucket; give the bucket alone (credentials come from the environment)` };
      return { error: `"${bucket}" in ${rest} is not a valid bucket name` };
    }
    if (key === '' || key.endsWith('/')) return { error: `s3://${rest} names no object` };
    return { kind: 's3', bucket, key, identity: `s3://${bucket}/${key}`, display: `s3://${bucket}/${key}` };
  }
  if (scheme === 'file') {
    let absolute: string;
    try {
      absolute = fileURLToPath(trimmed);
    } catch {
      return { error: `"${withoutQuery(trimmed)}" is not a valid file:// URL (use file:///absolute/path or a relative path)` };
    }
    return localFile(absolute, trimmed, baseDir);
  }
  if (scheme !== undefined && scheme.length > 1) {
    return { error: `"${withoutQuery(trimmed)}": ${scheme}: locations are not supported (https://, s3://, file:// or a path relative to the catalog)` };
  }
  return localFile(path.resolve(baseDir, trimmed), trimmed, baseDir);
}

function localFile(absolute: string, written: string, baseDir: string): ReferenceLocation | { error: string } {
  const relative = path.relative(baseDir, absolute);
  if (relative === '' || relative.startsWith('..') || path.isAbsolute(relative)) {
    return { error: `"${written}" is outside the catalog's directory; local references must sit in or below it` };
  }
  return { kind: 'file', path: absolute, identity: `file:${absolute}`, display: relative.split(path.sep).join('/') };
}

function withoutQuery(text: string): string {
  return text.replace(/[?#].*$/s, '');
}

function displayOf(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}
