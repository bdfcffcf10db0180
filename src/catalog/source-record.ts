/**
 * What a format reader (CSV, JSON array, JSONL) hands to the row normalizer: raw values under the
 * file's own column names, or a record the reader could not parse but could skip.
 */
export type SourceRecord =
  | { kind: 'header'; columns: readonly string[]; line: number }
  | { kind: 'record'; rowNumber: number; line: number; values: ReadonlyMap<string, string> }
  | { kind: 'malformed'; rowNumber: number; line: number; reason: string };
