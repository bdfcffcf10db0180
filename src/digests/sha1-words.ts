import { hash } from 'node:crypto';

/**
 * SHA-1 of a string's UTF-8 bytes (or of the bytes given: the same digest) as a 'binary' (latin1)
 * string, one character a byte. Node makes a Buffer for 'buffer' output, which cost more than the
 * hash itself (≈ 820 ns against ≈ 290 ns for a short key) and, a million times over, weighs on
 * the garbage collector.
 */
export function sha1Binary(text: string | Uint8Array): string {
  return hash('sha1', text, 'binary');
}

/** Bytes at..at+3 of a binary digest as an unsigned little-endian word (what readUInt32LE reads). */
export function wordAt(bits: string, at: number): number {
  return (bits.charCodeAt(at) | (bits.charCodeAt(at + 1) << 8) | (bits.charCodeAt(at + 2) << 16) | (bits.charCodeAt(at + 3) << 24)) >>> 0;
}
