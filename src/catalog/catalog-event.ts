/** What reading a catalog produces: valid rows, and rows set aside with the reason. Nothing is dropped silently. */
export interface CatalogRow {
  /** 1-based ordinal of the record among the file's data records (CSV header and blank lines excluded). */
  rowNumber: number;
  /** 1-based line of the file where the record starts. */
  line: number;
  key: string;
  /** Field values after renames and forward-fill, trimmed. */
  fields: Readonly<Record<string, string>>;
}

export interface RowRejection {
  file: string;
  rowNumber: number;
  line: number;
  key?: string;
  field?: string;
  /** Set when the rejection concerns one variant of a row (planning), not the whole row. */
  variant?: string;
  code: 'E_CATALOG_ROW';
  reason: string;
}

export type CatalogEvent = { kind: 'row'; row: CatalogRow } | { kind: 'rejected'; rejection: RowRejection };
