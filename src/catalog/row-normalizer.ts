import type { ResolvedCatalog } from '../spec/resolved-job.js';
import type { CatalogEvent, NormalizedEvent, RowRejection, SourceRecord } from './catalog-event.js';
import { catalogFileError } from './catalog-file-error.js';
import { KeyIndex } from './key-index.js';

/** What no product text holds: U+FFFD (a byte that was not UTF-8, replaced as the file was decoded) and NUL. */
const UNREADABLE = /[\uFFFD\u0000]/;

/**
 * A field holding bytes that are not UTF-8 (a file saved as Latin-1 or Windows-1252) or NUL: left
 * in, "Café" became "Caf\uFFFD" in prompts and keys, and two SKUs differing only there collided.
 */
function unreadableField(fields: ReadonlyMap<string, string>, columns: readonly string[]): { field: string; reason: string } | undefined {
  for (const field of columns) {
    const value = fields.get(field);
    if (value === undefined) continue;
    const found = UNREADABLE.exec(value);
    if (!found) continue;
    const what = found[0] === '\u0000' ? 'a NUL character' : 'bytes that are not UTF-8 (shown as \uFFFD); save the file as UTF-8';
    return { field, reason: `field \`${field}\` holds ${what}` };
  }
  return undefined;
}

/** Any character outside ASCII: only such keys can have two Unicode spellings. */
const NON_ASCII = /[^\x00-\x7f]/;

/**
 * Turns source records into catalog rows: renames columns, forward-fills, trims, checks the key
 * (present, unique) and required fields. Stateful across rows (forward-fill needs the previous row,
 * duplicate detection the keys seen so far).
 *
 * Memory: every accepted key's first row, in a KeyIndex (96-bit digests in typed arrays, ~32
 * bytes a key). That is the only thing that grows with the catalog: ~32 MB for 1M keys.
 */
export class RowNormalizer {
  private readonly firstRowOfKey = new KeyIndex();
  private previousGroup: string | undefined;
  private previousFill = new Map<string, string>();
  private readonly renamedSources: ReadonlySet<string>;
  /** Columns checked for unreadable bytes; a column the job never reads may hold anything. */
  private readonly checkedColumns: readonly string[];

  constructor(
    private readonly catalog: ResolvedCatalog,
    private readonly displayPath: string,
    /** Reference columns: checked against the header; `group` ones make image-only rows part of their group. */
    private readonly referenceColumns: { readonly row: readonly string[]; readonly group: readonly string[] } = { row: [], group: [] },
    /** Columns the job's templates read (prompt, steps, key): with the key, required and reference columns, the ones checked for unreadable bytes. */
    usedColumns: readonly string[] = [],
  ) {
    this.renamedSources = new Set(Object.values(catalog.columns));
    this.checkedColumns = [...new Set([catalog.key, ...catalog.required, ...usedColumns, ...referenceColumns.row, ...referenceColumns.group])];
  }

  /** Checks a CSV header against the job's column settings; a mismatch is a whole-file error. */
  checkHeader(columns: readonly string[], line: number): void {
    const seen = new Set<string>();
    for (const column of columns) {
      if (column === '') throw catalogFileError(this.displayPath, 'header has an empty column name', { line });
      if (seen.has(column)) throw catalogFileError(this.displayPath, `header names column "${column}" twice`, { line });
      seen.add(column);
    }
    for (const [target, source] of Object.entries(this.catalog.columns)) {
      if (!seen.has(source)) {
        throw catalogFileError(this.displayPath, `column "${source}" (renamed to "${target}") is not in the header (${columns.join(', ')})`, { line });
      }
      // Renaming onto a column the file has already would throw that column's values away unseen.
      if (target !== source && seen.has(target) && !this.renamedSources.has(target)) {
        throw catalogFileError(this.displayPath, `catalog.columns renames "${source}" to "${target}", but the header has a "${target}" column too (its values would be lost): rename or drop one of them`, { line });
      }
    }
    const available = new Set([...columns.filter((column) => !this.renamedSources.has(column)), ...Object.keys(this.catalog.columns)]);
    const wanted: [string, string][] = [
      ['key', this.catalog.key],
      ...this.catalog.required.map((column): [string, string] => ['required', column]),
      ...this.catalog.forwardFill.map((column): [string, string] => ['forwardFill', column]),
      ...(this.catalog.forwardFillBy ? [['forwardFillBy', this.catalog.forwardFillBy] as [string, string]] : []),
      ...[...this.referenceColumns.row, ...this.referenceColumns.group].map((column): [string, string] => ['references', column]),
    ];
    for (const [setting, column] of wanted) {
      if (!available.has(column)) {
        const name = setting === 'references' ? 'references' : `catalog.${setting}`;
        throw catalogFileError(
          this.displayPath,
          `${name} names column "${column}", which is not in the header (${[...available].join(', ')})`,
          { line },
        );
      }
    }
  }

  accept(record: Exclude<SourceRecord, { kind: 'header' }>): NormalizedEvent {
    if (record.kind === 'malformed') return this.reject(record, record.reason);
    const fields = this.rename(record.values);
    // After forward-fill: a variant row inheriting an unreadable value is rejected with it, and a
    // rejected row still moves the fill on to its product (not the one before).
    this.forwardFill(fields);
    const unreadable = unreadableField(fields, this.checkedColumns);
    if (unreadable) return this.reject(record, unreadable.reason, { field: unreadable.field });
    const key = fields.get(this.catalog.key) ?? '';
    if (key === '') {
      const image = this.groupImage(fields, record);
      if (image) return { kind: 'groupImage', image };
    }
    if (key === '') return this.reject(record, `no value in the key column \`${this.catalog.key}\``, { field: this.catalog.key });
    // Keys spelt with other code points for the same characters (a precomposed "é" against "e" and
    // a combining accent, as exports from different systems write them) look alike to everyone and
    // share one path on a normalizing file system (macOS): they are one key, the second a duplicate.
    const nonAscii = NON_ASCII.test(key);
    const firstRow = this.firstRowOfKey.firstRowOrAdd(nonAscii ? key.normalize('NFC') : key, record.rowNumber);
    if (firstRow !== undefined) {
      const compared = nonAscii ? '; keys are compared in Unicode NFC, so accents composed differently are the same key' : '';
      return this.reject(record, `duplicate key "${key}" (first seen in row ${firstRow}${compared})`, { key, field: this.catalog.key });
    }
    for (const column of this.catalog.required) {
      if ((fields.get(column) ?? '') === '') return this.reject(record, `required field \`${column}\` is empty`, { key, field: column });
    }
    // fromEntries defines own properties, so a column named "__proto__" stays a plain field.
    const row = { rowNumber: record.rowNumber, line: record.line, key, fields: Object.freeze(Object.fromEntries(fields)) };
    return { kind: 'row', row };
  }

  /** An image-only row of a group: no key, a group value, and a value in a group-scoped reference column. */
  private groupImage(fields: ReadonlyMap<string, string>, record: { rowNumber: number; line: number }) {
    const by = this.catalog.forwardFillBy;
    if (by === undefined || this.referenceColumns.group.length === 0) return undefined;
    const group = fields.get(by) ?? '';
    if (group === '') return undefined;
    const values: Record<string, string> = {};
    for (const column of this.referenceColumns.group) {
      const value = fields.get(column) ?? '';
      if (value !== '') values[column] = value;
    }
    if (Object.keys(values).length === 0) return undefined;
    return { group, rowNumber: record.rowNumber, line: record.line, values };
  }

  private rename(values: ReadonlyMap<string, string>): Map<string, string> {
    const fields = new Map<string, string>();
    for (const [name, value] of values) {
      if (!this.renamedSources.has(name)) fields.set(name, value.trim());
    }
    for (const [target, source] of Object.entries(this.catalog.columns)) fields.set(target, (values.get(source) ?? '').trim());
    return fields;
  }

  /**
   * Shopify-style exports leave product fields empty on a product's second and later variant rows.
   * Empty forward-fill columns take the previous row's value, but only within one group
   * (`forwardFillBy`, e.g. Handle) when a group column is set, so values never leak across products.
   */
  private forwardFill(fields: Map<string, string>): void {
    if (this.catalog.forwardFill.length === 0) return;
    const by = this.catalog.forwardFillBy;
    const group = by === undefined ? undefined : fields.get(by) ?? '';
    const sameGroup = by === undefined || (group !== '' && group === this.previousGroup);
    if (sameGroup) {
      for (const column of this.catalog.forwardFill) {
        const previous = this.previousFill.get(column);
        if ((fields.get(column) ?? '') === '' && previous !== undefined) fields.set(column, previous);
      }
    }
    this.previousGroup = group;
    this.previousFill = new Map(this.catalog.forwardFill.map((column) => [column, fields.get(column) ?? '']));
  }

  private reject(
    record: { rowNumber: number; line: number },
    reason: string,
    extra: { key?: string; field?: string } = {},
  ): CatalogEvent {
    const rejection: RowRejection = {
      file: this.displayPath,
      rowNumber: record.rowNumber,
      line: record.line,
      ...extra,
      code: 'E_CATALOG_ROW',
      reason,
    };
    return { kind: 'rejected', rejection };
  }
}
