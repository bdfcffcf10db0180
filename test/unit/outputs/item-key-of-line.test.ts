import { describe, expect, it } from 'vitest';
import { itemKeyOfLine } from '../../../src/outputs/loaded-stored-index.js';

const line = (itemKey: string, rest: Record<string, unknown> = { model: 'm' }) => JSON.stringify({ itemKey, inputHash: 'ab'.repeat(32), ...rest });

describe('itemKeyOfLine: the item key of an index line without parsing the rest', () => {
  it('reads plain, quoted, backslashed and non-ASCII keys exactly as JSON.parse would', () => {
    for (const key of ['SKU-1#main', 'say "hi"#main', 'ends with \\', 'a\\","inputHash":"x#main', 'tab\there#main', 'Größe 42 ✓#main', '']) {
      expect(itemKeyOfLine(line(key))).toBe(key);
    }
  });

  it('parses a line of another shape in full, and fails on one that is not JSON', () => {
    expect(itemKeyOfLine(JSON.stringify({ inputHash: 'x', itemKey: 'SKU-2#main' }))).toBe('SKU-2#main');
    expect(itemKeyOfLine('{"itemKey":"SKU-3#main","model":"m"}')).toBe('SKU-3#main');
    expect(() => itemKeyOfLine('{"itemKey":"SKU-4#main","inputHash":"ab')).toThrow(SyntaxError);
    expect(() => itemKeyOfLine('not json')).toThrow(SyntaxError);
  });
});
