import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { csvLine } from '../../../src/export/csv-line.js';

describe('csvLine', () => {
  it('quotes only fields with commas, quotes or line breaks, doubling quotes, and ends records with CRLF', () => {
    expect(csvLine(['a', 'b,c', 'say "hi"', 'two\nlines', 'cr\rhere', ''])).toBe('a,"b,c","say ""hi""","two\nlines","cr\rhere",\r\n');
  });

  it('round-trips awkward values through csv-parse', () => {
    const rows = [
      ['plain', '', ' spaced ', '"', '""', ',', '\r\n', 'ünïcødé ✓', "'=1+1"],
      ['x', 'y,"z"\n,', 'end"', '"start', 'a\r\nb', '\n', '\t', 'tab\tin', '🙂'],
    ];
    const text = rows.map(csvLine).join('');
    expect(parse(text, { relaxQuotes: false })).toEqual(rows);
  });
});
