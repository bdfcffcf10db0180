import { describe, expect, it } from 'vitest';
import { KeyIndex } from '../../../src/catalog/key-index.js';

describe('KeyIndex', () => {
  it('remembers the first row of each key, through growth, and tells repeats apart from new keys', () => {
    const index = new KeyIndex();
    for (let row = 1; row <= 50_000; row += 1) expect(index.firstRowOrAdd(`SKU-${row}`, row)).toBeUndefined();
    expect(index.size).toBe(50_000);
    expect(index.firstRowOrAdd('SKU-1', 60_000)).toBe(1);
    expect(index.firstRowOrAdd('SKU-49999', 60_001)).toBe(49_999);
    expect(index.firstRowOrAdd('sku-1', 60_002)).toBeUndefined();
    expect(index.firstRowOrAdd('SKU-1 ', 60_003)).toBeUndefined();
    expect(index.firstRowOrAdd('', 0)).toBeUndefined();
    expect(index.firstRowOrAdd('', 70_000)).toBe(0);
    expect(index.size).toBe(50_003);
  });

  it('refuses what is not a row number', () => {
    expect(() => new KeyIndex().firstRowOrAdd('a', -1)).toThrow(RangeError);
    expect(() => new KeyIndex().firstRowOrAdd('a', 1.5)).toThrow(RangeError);
  });
});
