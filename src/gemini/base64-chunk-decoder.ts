import { decodedStrictly } from '../image/strict-base64.js';

/**
 * Decodes a base64 string that arrives in pieces, as strictly as decodeBase64Strict decodes a
 * whole one (standard alphabet, `=` padding only at the very end, length a multiple of 4), without
 * ever holding the whole string: each piece's whole 4-character groups are decoded straight into
 * one growing buffer (`Buffer#write(…, 'base64')`, no Buffer per piece), sized from a hint — the
 * body's remaining length — so a 4K image costs its own bytes and little more. Each piece is
 * judged by what the decoder made of it (strict-base64.ts), not scanned by a regex first.
 */
const INVALID = 'image data is not valid base64';
const FIRST_CAPACITY = 1 << 20;

export class Base64ChunkDecoder {
  private carry = '';
  /** Characters before the padding, decoded at the end together with it. */
  private pending = '';
  private padded = false;
  private target: Buffer | undefined;
  private length = 0;
  /** Why the text is not valid base64; once set, the rest is ignored. */
  problem: string | undefined;

  /** `sizeHint`: most bytes the data can decode to (e.g. ¾ of the body still to come). */
  constructor(private readonly sizeHint?: number) {}

  write(text: string): void {
    if (this.problem !== undefined || text.length === 0) return;
    if (this.padded) {
      // Only more padding may follow padding, and at most two `=` in all.
      if (/^=+$/.test(text) && this.carry.length + text.length <= 2) this.carry += text;
      else this.problem = INVALID;
      return;
    }
    let body = this.carry + text;
    const pad = body.indexOf('=');
    if (pad !== -1) {
      const padding = body.slice(pad);
      body = body.slice(0, pad);
      if (!/^={1,2}$/.test(padding)) {
        this.problem = INVALID;
        return;
      }
      this.padded = true;
      this.carry = padding;
      this.pending = body;
      return;
    }
    const whole = body.length - (body.length % 4);
    if (whole > 0) this.decode(body.slice(0, whole));
    this.carry = body.slice(whole);
  }

  /** The decoded bytes; undefined when the text was not valid base64 (see `problem`). */
  end(): Buffer | undefined {
    if (this.problem !== undefined) return undefined;
    const tail = this.padded ? this.pending + this.carry : this.carry;
    if (this.length === 0 && tail.length === 0) {
      this.problem = 'image data is empty';
      return undefined;
    }
    if (tail.length % 4 !== 0) {
      this.problem = INVALID;
      return undefined;
    }
    if (tail.length > 0) this.decode(tail, this.padded ? this.carry.length : 0);
    if (this.problem !== undefined) return undefined;
    const target = this.target as Buffer;
    // A hint much larger than the data (a small image in a big body): keep only what is used.
    return this.length < target.length * 0.75 ? Buffer.from(target.subarray(0, this.length)) : target.subarray(0, this.length);
  }

  /** Decodes whole groups (`padding`: how many `=` end them); a group that was not strict sets `problem`. */
  private decode(groups: string, padding = 0): void {
    const needed = (groups.length / 4) * 3;
    const target = this.room(needed);
    const written = target.write(groups, this.length, needed, 'base64');
    if (!decodedStrictly(groups, written, padding)) {
      this.problem = INVALID;
      return;
    }
    this.length += written;
  }

  private room(needed: number): Buffer {
    const want = this.length + needed;
    if (this.target && this.target.length >= want) return this.target;
    const capacity = Math.max(want, this.target ? this.target.length * 2 : Math.max(this.sizeHint ?? 0, FIRST_CAPACITY));
    const grown = Buffer.allocUnsafe(capacity);
    if (this.target) this.target.copy(grown, 0, 0, this.length);
    this.target = grown;
    return grown;
  }
}
