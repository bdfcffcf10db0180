import type { ReferenceFailureReason } from '../references/reference-fetch-options.js';
/** What reading a catalog produces: valid rows, and rows set aside with the reason. Nothing is dropped silently. */
export interface CatalogRow {
  /** 1-based ordinal of the record among the file's data records (CSV header and blank lines excluded). */
  rowNumber: number;
  /** 1-based line of the file where the record starts. */
  line: number;
  key: string;
  /** Field values after renames and forward-fill, trimmed. */
  fields: Readonly<Record<string, string>>;
  /**
   * For reference columns with `scope: group`: that column's non-empty values across every row of
   * this row's `forwardFillBy` group (image-only rows included), in file order, without repeats.
   */
  groupValues?: Readonly<Record<string, readonly string[]>>;
}

/**
 * A row of a group that holds only images (a Shopify export lists a product's extra photos on rows
 * with no variant): not an item, its images belong to every row of the group.
 */
export interface GroupImageRow {
  group: string;
  rowNumber: number;
  line: number;
  /** Non-empty values of the group-scoped reference columns. */
  values: Readonly<Record<string, string>>;
}

export interface RowRejection {
  file: string;
  rowNumber: number;
  line: number;
  key?: string;
  field?: string;
  /** Set when the rejection concerns one variant of a row (planning), not the whole row. */
  variant?: string;
  /**
   * E_REFERENCE when a reference image of the row is unusable (fetch, guard, type, count);
   * E_CONTEXT_LIMIT when the row's request would not fit the model's input limit.
   */
  code: 'E_CATALOG_ROW' | 'E_REFERENCE' | 'E_CONTEXT_LIMIT';
  reason: string;
  /** For E_REFERENCE from a fetch or a decode: its stable tag (`not-found`, `timeout`, …), to group rejected rows by. */
  referenceFailure?: ReferenceFailureReason;
}

export type CatalogEvent = { kind: 'row'; row: CatalogRow } | { kind: 'rejected'; rejection: RowRejection };

/** What the row normalizer gives before image-only rows are folded into their group. */
export type NormalizedEvent = CatalogEvent | { kind: 'groupImage'; image: GroupImageRow };

/**
 * What a format reader (CSV, JSON array, JSONL) hands to the row normalizer: raw values under the
 * file's own column names, or a record the reader could not parse but could skip.
 */
export type SourceRecord =
  | { kind: 'header'; columns: readonly string[]; line: number }
  | { kind: 'record'; rowNumber: number; line: number; values: ReadonlyMap<string, string> }
  | { kind: 'malformed'; rowNumber: number; line: number; reason: string };
