import { BunchError } from '../errors/bunch-error.js';

// C0 controls and DEL. Keys become file names and HTTP paths; neither should carry these.
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;

/**
 * Defence in depth for object keys. Keys are built by the planner's key derivation, which already
 * refuses unsafe catalog values; the adapters check again because a key that escapes the output
 * root (`../x`, `/etc/x`) or aliases another key (`a//b`, `a/./b`) must never reach the disk or S3.
 * Returns the key unchanged when it is a relative, `/`-separated path of non-empty plain segments.
 */
export function assertStorableKey(key: string): string {
  const reason = unsafeKeyReason(key);
  if (reason !== undefined) {
    throw new BunchError('E_UNSAFE_KEY', `Refusing object key ${JSON.stringify(key)}: ${reason}`);
  }
  return key;
}

function unsafeKeyReason(key: string): string | undefined {
  if (key.length === 0) return 'it is empty';
  if (CONTROL_CHARACTERS.test(key)) return 'it contains control characters';
  if (key.includes('\\')) return 'it contains a backslash';
  if (key.startsWith('/')) return 'it is absolute';
  for (const segment of key.split('/')) {
    if (segment === '') return 'it has an empty path segment';
    if (segment === '.' || segment === '..') return `it has a "${segment}" path segment`;
  }
  return undefined;
}
