import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { BunchError } from '../../../src/errors/bunch-error.js';
import { assertSafeObjectKey, safeKeySegment } from '../../../src/plan/safe-key-segment.js';

describe('safeKeySegment', () => {
  it.each([
    ['SKU-123_a.b', 'SKU-123_a.b'],
    ['../etc', '%2E.%2Fetc'],
    ['.bunch-meta', '%2Ebunch-meta'],
    ['_bunch', '%5Fbunch'],
    ['a_b.c', 'a_b.c'],
    ['/abs', '%2Fabs'],
    ['a/b', 'a%2Fb'],
    ['a%2Fb', 'a%252Fb'],
    ['a\\b', 'a%5Cb'],
    ['..', '%2E%2E'],
    ['.', '%2E'],
    ['...', '%2E%2E%2E'],
    ['a b', 'a%20b'],
    ['é', '%C3%A9'],
    ['💡', '%F0%9F%92%A1'],
    ['nul\u0000x', 'nul%00x'],
    ['line\nbreak', 'line%0Abreak'],
    ['', ''],
  ])('%j → %j', (input, expected) => {
    expect(safeKeySegment(input)).toBe(expected);
  });

  it('never yields a traversal segment, a slash, a backslash or a control character', () => {
    for (const value of ['..', '.', '../..', '..\\..', '\u0000', '/', '//', 'C:\\x']) {
      const segment = safeKeySegment(value);
      expect(segment).not.toMatch(/[/\\\u0000-\u001f\u007f]/);
      expect(['.', '..']).not.toContain(segment);
    }
  });

  it('is injective: distinct inputs give distinct segments (random strings, including lookalikes)', () => {
    const alphabet = ['a', 'A', '.', '/', '%', '2', 'F', 'E', '5', 'C', '\\', ' ', '-', '_', 'é', '\u0000', '💡'];
    const seen = new Map<string, string>();
    const inputs = new Set<string>(['a/b', 'a%2Fb', 'a%252Fb', '.', '%2E', '..', '%2E%2E', '%2E.', '.%2E']);
    const random = randomBytes(20_000);
    for (let start = 0; start + 6 < random.length; start += 4) {
      const length = (random[start] as number) % 6;
      let value = '';
      for (let offset = 1; offset <= length; offset++) value += alphabet[(random[start + offset] as number) % alphabet.length];
      inputs.add(value);
    }
    for (const input of inputs) {
      const segment = safeKeySegment(input);
      const previous = seen.get(segment);
      expect(previous === undefined || previous === input, `${JSON.stringify(previous)} and ${JSON.stringify(input)} collide`).toBe(true);
      seen.set(segment, input);
      // Percent-decoding gives the input back (dot-only segments included), which is why it is injective.
      expect(decodeURIComponentLoose(segment)).toBe(input);
    }
    expect(seen.size).toBe(inputs.size);
  });
});

function decodeURIComponentLoose(segment: string): string {
  return Buffer.from(segment.replace(/%([0-9A-F]{2})|./gsu, (match, hex: string | undefined) => (hex ? String.fromCharCode(parseInt(hex, 16)) : match)), 'latin1').toString('utf8');
}

describe('assertSafeObjectKey', () => {
  it.each(['a/b/c.png', 'SKU%2F1/main-abc.png', 'x'])('accepts %j', (key) => {
    expect(() => assertSafeObjectKey(key)).not.toThrow();
  });

  it.each([
    ['', 'empty key'],
    ['/abs/x.png', 'is an absolute path'],
    ['a/../b', 'has a ".." path segment'],
    ['./a', 'has a "." path segment'],
    ['a//b', 'has an empty path segment'],
    ['a/', 'has an empty path segment'],
    ['a\\b', 'contains a backslash'],
    ['a\u0000b', 'contains a control character'],
    ['a\nb', 'contains a control character'],
    ['C:/x', 'looks like a drive path'],
    ['k'.repeat(1025), 'longer than 1024 bytes'],
  ])('rejects %j (%s) with E_UNSAFE_KEY', (key, reason) => {
    let error: unknown;
    try {
      assertSafeObjectKey(key);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(BunchError);
    expect((error as BunchError).code).toBe('E_UNSAFE_KEY');
    expect((error as BunchError).message).toBe(`unsafe object key ${JSON.stringify(key)}: ${reason}`);
  });
});
