import { describe, expect, it } from 'vitest';
import { neutralizeCell } from '../../../src/export/neutralize-cell.js';

describe('neutralizeCell', () => {
  it('prefixes a quote to cells a spreadsheet would run as a formula, and leaves the rest alone', () => {
    expect(['=1+1', '+1', '-2', '@SUM(A1)', '\tx', '\rx', 'a=b', ' =1', 'plain', ''].map(neutralizeCell)).toEqual([
      "'=1+1", "'+1", "'-2", "'@SUM(A1)", "'\tx", "'\rx", 'a=b', ' =1', 'plain', '',
    ]);
  });
});
