/**
 * CSV reader, streaming, on csv-parse's stream API. Contract with csv-parse 7:
 * - `info: true` gives `info.lines`, the line where a record ENDS; the start line is that minus the
 *   line breaks inside the record's quoted fields (input is CRLF-normalised first, see CrlfToLf).
 * - `skip_records_with_error: true` turns recoverable errors (bad quotes) into `skip` events with
 *   `err.lines`; those become malformed records, the parse continues.
 * - `relax_quotes: true`: a stray quote (`B,"bad"quote`) is kept as literal text. Without it
 *   csv-parse stays inside the "quoted field" to the end of the file and every later row is lost
 *   in one skipped record; a row with an odd value is the lesser harm, and it stays visible. A
 *   field that OPENS with a quote never closed runs into the next rows; that record is rejected
 *   when one of its inner lines reads like a row (swallowedRecordLine). A quote never closed at all
 *   (csv-parse reads on to the end of the file) rejects its record, and the file is read again
 *   with that line emptied (BlankLines), so the rows after it are read.
 * - `relax_column_count: true`: we compare field counts with the header ourselves and reject the
 *   record with a reason, instead of csv-parse failing or silently padding.
 * Errors csv-parse cannot skip end the read with E_CATALOG_FILE and the line.
 */
import { parse, type CsvError, type Info } from 'csv-parse';
import type { FileHandle } from 'node:fs/promises';
import { catalogFileError } from './catalog-file-error.js';
import { BlankLines } from './blank-lines.js';
import { CrlfToLf } from './crlf-to-lf.js';
import type { SourceRecord } from './catalog-event.js';

interface ParsedRecord {
  record: string[];
  info: Info;
}

/**
 * How many never-closed quotes a catalog may hold before the rest of it is given up on: each one
 * costs a read of the file again (its line emptied), and a file with this many is broken, not unlucky.
 */
const MAX_UNCLOSED_QUOTES = 20;

export async function* readCsvRecords(
  handle: FileHandle,
  displayPath: string,
  delimiter: string,
  /** Opens the file again for a second read (a FileHandle's stream closes the handle it read). */
  reopen?: () => Promise<FileHandle>,
): AsyncGenerator<SourceRecord> {
  // Lines holding a never-closed quote, emptied on the next read of the file; records that start
  // at or before `readUpTo` were handed out by an earlier read.
  const blanked = new Set<number>();
  let readUpTo = 0;
  let rowNumber = 0;
  let header: readonly string[] | undefined;
  for (let passes = 0; ; passes += 1) {
    const passHandle = passes === 0 ? handle : await (reopen as () => Promise<FileHandle>)();
    const pass = readCsvPass(passHandle, displayPath, delimiter, blanked);
    let unclosedAt: number | undefined;
    try {
      for await (const record of pass) {
        if (record.kind === 'header') {
          if (header === undefined) {
            header = record.columns;
            yield record;
          }
          continue;
        }
        if (record.kind === 'unclosed') {
          // Nothing after it was handed out: the next read goes on from there.
          unclosedAt = record.line;
          break;
        }
        if (record.line <= readUpTo) continue;
        rowNumber += 1;
        yield { ...record, rowNumber };
      }
    } finally {
      if (passes > 0) await passHandle.close().catch(() => undefined);
    }
    if (header === undefined) throw catalogFileError(displayPath, 'is empty (no header row)');
    if (unclosedAt === undefined) return;
    // csv-parse skips blank lines, so the record may start further down than the line after the last one.
    if (reopen) unclosedAt = await firstNonEmptyLineFrom(reopen, unclosedAt);
    rowNumber += 1;
    // Emptying that line did not end the record there (blank lines before it, or the quote opens
    // on a later line of a multi-line record): read no further, as a read again would find it again.
    if (blanked.has(unclosedAt) || passes >= MAX_UNCLOSED_QUOTES || !reopen) {
      const why = reopen && !blanked.has(unclosedAt) ? `, as in ${MAX_UNCLOSED_QUOTES} records before it` : '';
      yield { kind: 'malformed', rowNumber, line: unclosedAt, reason: `malformed CSV record: a quote opened in this record is never closed${why}: the rest of the file is not read` };
      return;
    }
    // The record is rejected, and the file read again with its line emptied: the rows after it
    // are read as rows (before, the rest of the file was one field, and one bad cell sank the run).
    yield { kind: 'malformed', rowNumber, line: unclosedAt, reason: 'malformed CSV record: a quote opened in this record is never closed (its line is left out; the rows after it are read)' };
    blanked.add(unclosedAt);
    readUpTo = unclosedAt;
  }
}

/** The first line at or after `line` that holds anything (lines end at LF or a lone CR, CRLF being one). */
async function firstNonEmptyLineFrom(open: () => Promise<FileHandle>, line: number): Promise<number> {
  const handle = await open();
  try {
    let current = 1;
    let empty = true;
    const input = handle.createReadStream();
    const normaliser = new CrlfToLf();
    input.on('error', (error) => normaliser.destroy(error));
    for await (const chunk of input.pipe(normaliser) as AsyncIterable<Buffer>) {
      for (const byte of chunk) {
        if (byte === 0x0a || byte === 0x0d) {
          if (current >= line && !empty) return current;
          current += 1;
          empty = true;
        } else {
          empty = false;
        }
      }
    }
    return current >= line && !empty ? current : line;
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/** What one read of the file finds: records as readCsvRecords hands them out, and where a quote never closes. */
type PassRecord = SourceRecord | { kind: 'unclosed'; line: number };

async function* readCsvPass(handle: FileHandle, displayPath: string, delimiter: string, blanked: ReadonlySet<number>): AsyncGenerator<PassRecord> {
  const parser = parse({
    bom: true,
    delimiter,
    info: true,
    relax_column_count: true,
    relax_quotes: true,
    skip_records_with_error: true,
    skip_empty_lines: true,
    // Called as each record is parsed (before the loop below takes it): where the last good one
    // ended, so a record whose quote never closes is reported where it starts, not at the end
    // of the file where csv-parse gives up on it.
    on_record: (record, context) => {
      lastRecordEnd = context.lines;
      return record;
    },
  });
  let lastRecordEnd = 0;
  let unclosedAt: number | undefined;
  const skipped: { line: number; reason: string }[] = [];
  parser.on('skip', (error: CsvError & { lines?: number }) => {
    if (error.code === 'CSV_QUOTE_NOT_CLOSED') unclosedAt = lastRecordEnd + 1;
    else skipped.push({ line: error.lines ?? 0, reason: `malformed CSV record: ${error.message}` });
  });
  const input = handle.createReadStream();
  const normaliser = new CrlfToLf();
  const blanker = new BlankLines(blanked);
  input.on('error', (error) => normaliser.destroy(error));
  normaliser.on('error', (error) => blanker.destroy(error));
  blanker.on('error', (error) => parser.destroy(error));
  input.pipe(normaliser).pipe(blanker).pipe(parser);

  let header: readonly string[] | undefined;
  const takeSkipped = function* (beforeLine: number): Generator<PassRecord> {
    while (skipped.length > 0 && (skipped[0] as { line: number }).line < beforeLine) {
      const skip = skipped.shift() as { line: number; reason: string };
      yield { kind: 'malformed', rowNumber: 0, line: skip.line, reason: skip.reason };
    }
  };
  try {
    for await (const parsed of parser as AsyncIterable<ParsedRecord>) {
      const { record, info } = parsed;
      const breaks = record.reduce((count, value) => count + countLineBreaks(value), 0);
      const line = info.lines - breaks;
      if (header === undefined) {
        header = record.map((name) => name.trim());
        yield { kind: 'header', columns: header, line };
        continue;
      }
      yield* takeSkipped(line);
      if (record.length !== header.length) {
        yield {
          kind: 'malformed',
          rowNumber: 0,
          line,
          reason: `has ${record.length} field${record.length === 1 ? '' : 's'} but the header has ${header.length}`,
        };
        continue;
      }
      // A guess (a valid multi-line value can look the same), so the record is only rejected:
      // reading its inner lines as rows could invent rows that were never in the catalog.
      const swallowed = swallowedRecordLine(record, delimiter);
      if (swallowed !== undefined) {
        yield {
          kind: 'malformed',
          rowNumber: 0,
          line,
          reason: `a quoted field runs over ${breaks} line break${breaks === 1 ? '' : 's'} and its line ${line + swallowed} reads like a record of its own: a quote opened in this record is probably never closed (the rows it ran over are not read)`,
        };
        continue;
      }
      const values = new Map<string, string>();
      header.forEach((name, index) => values.set(name, record[index] ?? ''));
      yield { kind: 'record', rowNumber: 0, line, values };
    }
  } catch (error) {
    const line = (error as { lines?: number }).lines;
    throw catalogFileError(displayPath, `cannot parse CSV: ${(error as Error).message}`, {
      ...(line !== undefined ? { line } : {}),
      cause: error,
    });
  } finally {
    input.destroy();
  }
  yield* takeSkipped(Number.POSITIVE_INFINITY);
  if (unclosedAt !== undefined) yield { kind: 'unclosed', line: unclosedAt };
}

/**
 * A stray opening quote (`SKU-2,"Product 2` with no closing quote) makes csv-parse read on into
 * the next lines until some quote closes the field — typically the next row's own quoted value
 * (`SKU-3,"Product 3"`), so the merged record has the right field count and SKU-3 vanished
 * without a rejection. Inside a real multi-line value a line break followed, on that line, by
 * the delimiter and then a quote (`…\nSKU-3,"Product…`) is where a record of its own begins.
 * Returns how many lines into the record that line is, if one is found.
 */
function swallowedRecordLine(record: string[], delimiter: string): number | undefined {
  let linesBefore = 0;
  for (const value of record) {
    const lines = value.split(/\r|\n/);
    for (let index = 1; index < lines.length; index++) {
      if ((lines[index] as string).includes(`${delimiter}"`)) return linesBefore + index;
    }
    linesBefore += lines.length - 1;
  }
  return undefined;
}

/**
 * Line breaks inside a record's fields, as csv-parse counts lines: LF, and a lone CR (CRLF pairs
 * were turned into LF before parsing, so any CR left is lone). Before, a lone CR inside a quoted
 * field was not counted and every later row's line was one too high.
 */
function countLineBreaks(value: string): number {
  let count = 0;
  for (let index = 0; index < value.length; index++) {
    const code = value.charCodeAt(index);
    if (code === 10 || code === 13) count++;
  }
  return count;
}
