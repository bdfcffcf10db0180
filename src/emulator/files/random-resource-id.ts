import { randomBytes } from 'node:crypto';

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/**
 * A random lowercase alphanumeric id, the shape Google uses for `files/<id>` (12 chars seen)
 * and `batches/<id>` (36 chars). Modulo bias is irrelevant for an emulator's names.
 */
export function randomResourceId(length: number): string {
  const bytes = randomBytes(length);
  let id = '';
  for (const byte of bytes) id += ALPHABET[byte % ALPHABET.length];
  return id;
}
