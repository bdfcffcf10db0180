import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { BunchError } from '../../../src/errors/bunch-error.js';
import { Base64ChunkDecoder } from '../../../src/gemini/base64-chunk-decoder.js';
import { decodeBase64Strict } from '../../../src/image/decode-image.js';

/** The rule both decoders keep, written out the slow way: standard alphabet, `=` only at the end. */
const STRICT = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function whole(text: string): Buffer | string {
  try {
    return decodeBase64Strict(text);
  } catch (error) {
    return (error as BunchError).code;
  }
}

function inPieces(text: string, size: number): Buffer | string {
  const decoder = new Base64ChunkDecoder();
  for (let at = 0; at < text.length; at += size) decoder.write(text.slice(at, at + size));
  return decoder.end() ?? `problem: ${decoder.problem}`;
}

const valid = randomBytes(301).toString('base64'); // ends in one `=`
const replaced = (at: number, by: string) => valid.slice(0, at) + by + valid.slice(at + by.length);

const cases: [string, string][] = [
  ['valid, one `=`', valid],
  ['valid, two `=`', randomBytes(302).toString('base64')],
  ['valid, no padding', randomBytes(300).toString('base64')],
  ['a non-ASCII character Node reads by its low byte', replaced(40, '\u0141')],
  ['a Latin-1 letter', replaced(40, '\u00c1')],
  ['a NUL', replaced(40, '\u0000')],
  ['a space in place of a character', replaced(40, ' ')],
  ['a stray `*`', replaced(40, '*')],
  ['URL-safe `-`', replaced(40, '-')],
  ['URL-safe `_`', replaced(40, '_')],
  ['`=` in the middle', replaced(40, '==')],
  ['`=` then a character at the end', valid.slice(0, -2) + '=A'],
  ['three `=`', valid.slice(0, -3) + '==='],
  ['only padding', '===='],
  ['a non-ASCII character in the last group', valid.slice(0, -4) + 'Q\u0141Q='],
];

describe('strict base64, whole and in pieces', () => {
  it.each(cases)('%s: the same verdict as the written-out rule', (_name, text) => {
    const strict = STRICT.test(text);
    const expected = Buffer.from(text, 'base64');
    const verdictWhole = whole(text);
    if (strict) expect(verdictWhole).toEqual(expected);
    else expect(verdictWhole).toBe('E_BAD_IMAGE');
    for (const size of [1, 3, 4, 7, 64, 1000]) {
      const verdict = inPieces(text, size);
      if (strict) expect(verdict, `pieces of ${size}`).toEqual(expected);
      else expect(verdict, `pieces of ${size}`).toBe('problem: image data is not valid base64');
    }
  });

  it('the table has both kinds', () => {
    expect(cases.filter(([, text]) => STRICT.test(text))).toHaveLength(3);
  });
});
