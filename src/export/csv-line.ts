/**
 * One CSV record as RFC 4180 writes it: fields joined by commas, a field quoted when it holds a
 * comma, a double quote, CR or LF (quotes inside doubled), the record ended by CRLF.
 *
 * Hand-written on purpose: csv-stringify would be the library for this, but this line is the
 * whole of what the export needs from it (every field is already a string, the columns are fixed,
 * nothing is configured), and the round trip is checked with csv-parse in the tests.
 * Formula injection is a separate concern (`neutralizeCell`), applied before quoting.
 */
const NEEDS_QUOTES = /[",\r\n]/;

export function csvLine(fields: readonly string[]): string {
  return fields.map((field) => (NEEDS_QUOTES.test(field) ? `"${field.replaceAll('"', '""')}"` : field)).join(',') + '\r\n';
}
