/**
 * Encodes one catalog value for use inside an object key.
 *
 * Every UTF-8 byte outside `[A-Za-z0-9._-]` becomes `%XX` (uppercase hex), `%` itself included, so
 * the result can never contain `/`, `\`, control characters or spaces, and decoding is unambiguous:
 * the encoding is injective, two different SKUs never share a key. A value made only of dots
 * (".", "..") would still be a path-traversal segment, so its dots are encoded as `%2E`. A leading
 * `.` or `_` is encoded too (`%2E`, `%5F`): such names are hidden or reserved in the output tree
 * (`.bunch-meta/` sidecars, the `_bunch/` markers), and a SKU must never land there. All of this
 * stays injective because a literal `%` in the input is always encoded as `%25`.
 */
import { BunchError } from '../errors/bunch-error.js';

const UNRESERVED = /^[A-Za-z0-9._-]$/;

const ALL_UNRESERVED = /^[A-Za-z0-9._-]*$/;

export function safeKeySegment(value: string): string {
  return encodeLeading(encodeBytes(value));
}

function encodeBytes(value: string): string {
  if (ALL_UNRESERVED.test(value)) return /^\.+$/.test(value) ? value.replaceAll('.', '%2E') : value;
  let encoded = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    const char = String.fromCharCode(byte);
    encoded += byte < 0x80 && UNRESERVED.test(char) ? char : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  if (/^\.+$/.test(encoded)) encoded = encoded.replaceAll('.', '%2E');
  return encoded;
}

function encodeLeading(segment: string): string {
  if (segment.startsWith('.')) return `%2E${segment.slice(1)}`;
  if (segment.startsWith('_')) return `%5F${segment.slice(1)}`;
  return segment;
}

/** S3's limit on key length, in UTF-8 bytes. */
export const MAX_OBJECT_KEY_BYTES = 1024;
/** Most file systems' limit on one path segment, in bytes: a longer SKU could never be stored locally. */
export const MAX_SEGMENT_BYTES = 255;

/**
 * Last line of defence on a fully rendered object key (the template's literal text is operator
 * input too). Throws `E_UNSAFE_KEY`. Keys are relative and `/`-separated.
 */
export function assertSafeObjectKey(key: string): void {
  const problem = unsafeKeyReason(key);
  if (problem !== undefined) {
    throw new BunchError('E_UNSAFE_KEY', `unsafe object key ${JSON.stringify(key)}: ${problem}`);
  }
}

function unsafeKeyReason(key: string): string | undefined {
  if (key === '') return 'empty key';
  if (Buffer.byteLength(key, 'utf8') > MAX_OBJECT_KEY_BYTES) return `longer than ${MAX_OBJECT_KEY_BYTES} bytes`;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(key)) return 'contains a control character';
  if (key.includes('\\')) return 'contains a backslash';
  if (key.startsWith('/')) return 'is an absolute path';
  if (/^[A-Za-z]:/.test(key)) return 'looks like a drive path';
  for (const segment of key.split('/')) {
    if (segment === '') return 'has an empty path segment';
    if (segment === '.' || segment === '..') return `has a "${segment}" path segment`;
    if (Buffer.byteLength(segment, 'utf8') > MAX_SEGMENT_BYTES) return `has a path segment longer than ${MAX_SEGMENT_BYTES} bytes`;
  }
  return undefined;
}
