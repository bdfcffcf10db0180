/**
 * JSON Lines reader: one JSON object per line, read with node:readline so memory holds one line.
 * Blank lines are ignored; a line that is not a JSON object is a malformed record.
 */
import type { FileHandle } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { catalogFileError } from './catalog-file-error.js';
import { objectRecord } from './json-array-records.js';
import type { SourceRecord } from './catalog-event.js';

export async function* readJsonlRecords(handle: FileHandle, displayPath: string): AsyncGenerator<SourceRecord> {
  const stream = handle.createReadStream({ encoding: 'utf8' });
  const lines = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
  let line = 0;
  let rowNumber = 0;
  try {
    for await (const raw of lines) {
      line++;
      const text = line === 1 ? raw.replace(/^\uFEFF/, '') : raw;
      if (text.trim() === '') continue;
      rowNumber++;
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (error) {
        const reason = error instanceof RangeError ? 'is nested too deeply to read' : `not valid JSON: ${(error as Error).message}`;
        yield { kind: 'malformed', rowNumber, line, reason };
        continue;
      }
      yield objectRecord(value, text, rowNumber, line);
    }
  } catch (error) {
    throw catalogFileError(displayPath, `cannot read: ${(error as Error).message}`, { line, cause: error });
  } finally {
    lines.close();
    stream.destroy();
  }
}
