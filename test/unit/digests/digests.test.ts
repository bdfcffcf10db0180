import { describe, expect, it } from 'vitest';
import { DigestTable } from '../../../src/digests/digest-table.js';
import { SortedDigests } from '../../../src/digests/sorted-digests.js';
import { sha1Binary, wordAt } from '../../../src/digests/sha1-words.js';
import { createHash } from 'node:crypto';

describe('SortedDigests', () => {
  it('finds every member at a stable position once sealed, repeats dropped, and nothing else', () => {
    const set = new SortedDigests();
    for (let i = 0; i < 5_000; i += 1) set.add(`SKU-${i}/main.png`);
    set.add('SKU-1/main.png');
    expect(() => set.has('SKU-1/main.png')).toThrow('sealed');
    set.seal();
    expect(set.size).toBe(5_000);
    const positions = new Set<number>();
    for (let i = 0; i < 5_000; i += 1) positions.add(set.indexOf(`SKU-${i}/main.png`));
    expect(positions.size).toBe(5_000);
    expect(Math.min(...positions)).toBe(0);
    expect(Math.max(...positions)).toBe(4_999);
    expect(set.has('SKU-5000/main.png')).toBe(false);
    expect(set.has('sku-1/main.png')).toBe(false);
    expect(() => set.add('late')).toThrow('sealed');
  });

  it('an empty set answers no', () => {
    expect(new SortedDigests().seal().has('')).toBe(false);
  });
});

describe('DigestTable', () => {
  it('keeps a value per string through growth; the first value wins', () => {
    const table = new DigestTable();
    for (let i = 0; i < 20_000; i += 1) expect(table.getOrAdd(`key-${i}`, i * 2)).toBeUndefined();
    expect(table.getOrAdd('key-7', 1)).toBe(14);
    expect(table.get('key-19999')).toBe(39_998);
    expect(table.get('key-20000')).toBeUndefined();
    expect(table.size).toBe(20_000);
    expect(() => table.getOrAdd('x', -1)).toThrow(RangeError);
  });

  it('a string and its UTF-8 bytes are one key (planning hashes index lines as bytes)', () => {
    const table = new DigestTable();
    for (let i = 0; i < 2_000; i += 1) table.getOrAdd(`Lüneburg-Ω-${i}`, i);
    for (let i = 0; i < 2_000; i += 1) expect(table.get(Buffer.from(`Lüneburg-Ω-${i}`, 'utf8'))).toBe(i);
    expect(table.getOrAdd(Buffer.from('Lüneburg-Ω-7', 'utf8'), 99)).toBe(7);
    expect(table.get(Buffer.from('Luneburg-Ω-7', 'utf8'))).toBeUndefined();
  });
});

describe('sha1Binary / wordAt', () => {
  it('read the same unsigned words as the Buffer digest, high bytes included', () => {
    let highBytes = 0;
    for (let i = 0; i < 3_000; i += 1) {
      const key = i % 3 === 0 ? `images/SKU-${i}/main.png` : `Größe-${i}-✓`;
      const bits = sha1Binary(key);
      const buffer = createHash('sha1').update(key, 'utf8').digest();
      expect(bits.length).toBe(20);
      for (const at of [0, 4, 8, 12, 16]) expect(wordAt(bits, at)).toBe(buffer.readUInt32LE(at));
      if (buffer[3]! >= 0x80) highBytes += 1;
      expect(sha1Binary(Buffer.from(key, 'utf8'))).toBe(bits);
    }
    // The sign bit of a word was set in about half the keys: the words stay unsigned.
    expect(highBytes).toBeGreaterThan(1_000);
  });
});
