import { describe, expect, it } from 'vitest';
import { assertStorableKey } from '../../../src/storage/assert-storable-key.js';

describe('assertStorableKey', () => {
  it('accepts relative keys of plain segments, including dots and unicode inside names', () => {
    for (const key of ['a.png', 'sku-1/hero-ab12.png', 'runs/r1/manifest.jsonl', '...x/..y/z..', 'Käse/crème brûlée.png']) {
      expect(assertStorableKey(key)).toBe(key);
    }
  });

  it('refuses empty, absolute, traversing, aliasing and control-character keys with E_UNSAFE_KEY', () => {
    for (const key of ['', '/a', '..', '../a', 'a/..', 'a/../b', '.', './a', 'a//b', 'a/', 'a\\b', 'a\tb', 'a\u007fb']) {
      expect(() => assertStorableKey(key), JSON.stringify(key)).toThrow(expect.objectContaining({ code: 'E_UNSAFE_KEY' }));
    }
  });
});
