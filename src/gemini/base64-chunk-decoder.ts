/**
 * Decodes a base64 string that arrives in pieces, as strictly as decodeBase64Strict decodes a
 * whole one (standard alphabet, `=` padding only at the very end, length a multiple of 4), without
 * ever holding the whole string: each piece is decoded as soon as it holds whole 4-character groups.
 */
const ALPHABET = /^[A-Za-z0-9+/]*$/;

export class Base64ChunkDecoder {
  private carry = '';
  private readonly pieces: Buffer[] = [];
  private length = 0;
  private padded = false;
  /** Why the text is not valid base64; once set, the rest is ignored. */
  problem: string | undefined;

  write(text: string): void {
    if (this.problem !== undefined || text.length === 0) return;
    if (this.padded) {
      // Only more padding may follow padding, and at most two `=` in all.
      if (/^=+$/.test(text) && this.carry.length + text.length <= 2) this.carry += text;
      else this.problem = 'image data is not valid base64';
      return;
    }
    let body = this.carry + text;
    const pad = body.indexOf('=');
    if (pad !== -1) {
      // Padding ends the data: at most two `=` and nothing after them (checked in end()).
      const padding = body.slice(pad);
      if (!/^={1,2}$/.test(padding)) {
        this.problem = 'image data is not valid base64';
        return;
      }
      this.padded = true;
      body = body.slice(0, pad);
      this.carry = padding;
      if (!ALPHABET.test(body)) {
        this.problem = 'image data is not valid base64';
        return;
      }
      this.pending = body;
      return;
    }
    if (!ALPHABET.test(text)) {
      this.problem = 'image data is not valid base64';
      return;
    }
    const whole = body.length - (body.length % 4);
    if (whole > 0) this.push(Buffer.from(body.slice(0, whole), 'base64'));
    this.carry = body.slice(whole);
  }

  /** Characters before the padding, decoded at the end together with it. */
  private pending = '';

  /** The decoded bytes; undefined when the text was not valid base64 (see `problem`). */
  end(): Buffer | undefined {
    if (this.problem !== undefined) return undefined;
    const tail = this.padded ? this.pending + this.carry : this.carry;
    if (this.length === 0 && tail.length === 0) {
      this.problem = 'image data is empty';
      return undefined;
    }
    if (tail.length % 4 !== 0) {
      this.problem = 'image data is not valid base64';
      return undefined;
    }
    if (tail.length > 0) this.push(Buffer.from(tail, 'base64'));
    return this.pieces.length === 1 ? (this.pieces[0] as Buffer) : Buffer.concat(this.pieces, this.length);
  }

  private push(bytes: Buffer): void {
    this.pieces.push(bytes);
    this.length += bytes.length;
  }
}
