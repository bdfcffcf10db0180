/**
 * Serializes a response to one Buffer without a second full-size copy of its base64 image data:
 * `JSON.stringify` would build a new ~24 MB string for a realistic 4K image, and writing that
 * string to the socket would encode it again. Here the big `data` strings are swapped for
 * placeholders, and the final buffer is written once, the base64 copied in as latin1 (base64 is
 * ASCII, so this is byte-exact).
 */
import { randomBytes } from 'node:crypto';

const BIG_STRING = 64 * 1024;

export function jsonBody(value: unknown): Buffer {
  const token = `@@${randomBytes(6).toString('hex')}@@`;
  const big: string[] = [];
  const text = JSON.stringify(value, (key, member: unknown) => {
    if (key === 'data' && typeof member === 'string' && member.length > BIG_STRING) {
      big.push(member);
      return token;
    }
    return member;
  });
  if (big.length === 0) return Buffer.from(text, 'utf8');
  const pieces = text.split(`"${token}"`);
  const total =
    pieces.reduce((sum, piece) => sum + Buffer.byteLength(piece, 'utf8'), 0) + big.reduce((sum, s) => sum + s.length + 2, 0);
  const body = Buffer.allocUnsafe(total);
  let offset = 0;
  for (const [i, piece] of pieces.entries()) {
    offset += body.write(piece, offset, 'utf8');
    const data = big[i];
    if (data === undefined) continue;
    offset += body.write('"', offset, 'latin1');
    offset += body.write(data, offset, 'latin1');
    offset += body.write('"', offset, 'latin1');
  }
  return body;
}
