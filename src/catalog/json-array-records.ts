/**
 * Streams the elements of a top-level JSON array (`[ {...}, {...} ]`) without reading the file
 * whole: a 50 MB catalog must not become a 50 MB string plus its object graph.
 *
 * Why hand-written: the only job is to find where each top-level element starts and ends (tracking
 * strings, escapes and nesting depth) and hand that slice to JSON.parse, about 100 lines. Streaming
 * JSON libraries are not among the project's dependencies, and this keeps per-element line numbers.
 * Memory: one element at a time. A broken element (bad JSON inside balanced brackets) becomes a
 * malformed record; a broken structure (no `[`, unterminated string, text after `]`) is E_CATALOG_FILE.
 */
import type { FileHandle } from 'node:fs/promises';
import { catalogFileError } from './catalog-file-error.js';
import { fieldValueText } from './field-value-text.js';
import { jsonMemberTexts } from './json-member-texts.js';
import type { SourceRecord } from './catalog-event.js';

type Phase = 'start' | 'element-or-end' | 'element' | 'inside' | 'comma-or-end' | 'done';

export async function* readJsonArrayRecords(handle: FileHandle, displayPath: string): AsyncGenerator<SourceRecord> {
  const stream = handle.createReadStream({ encoding: 'utf8' });
  let phase: Phase = 'start';
  let line = 1;
  let rowNumber = 0;
  let first = true;
  // State of the element being collected.
  let pieces: string[] = [];
  let elementLine = 0;
  let depth = 0;
  let inString = false;
  let escaped = false;
  let scalar = false;

  const fail = (message: string): never => {
    throw catalogFileError(displayPath, message, { line });
  };
  const finishElement = (): SourceRecord => {
    const text = pieces.join('');
    pieces = [];
    rowNumber++;
    return toRecord(text, rowNumber, elementLine);
  };

  try {
    for await (const chunk of stream as AsyncIterable<string>) {
      let text = chunk;
      if (first) {
        text = text.replace(/^\uFEFF/, '');
        first = false;
      }
      let elementStart = phase === 'inside' ? 0 : -1;
      const completed: SourceRecord[] = [];
      for (let index = 0; index < text.length; index++) {
        const char = text[index] as string;
        if (phase === 'inside') {
          if (inString) {
            if (escaped) escaped = false;
            else if (char === '\\') escaped = true;
            else if (char === '"') {
              inString = false;
              if (depth === 0) {
                pieces.push(text.slice(elementStart, index + 1));
                completed.push(finishElement());
                phase = 'comma-or-end';
              }
            } else if (char === '\n') line++;
            continue;
          }
          if (scalar) {
            if (char === ',' || char === ']' || /\s/.test(char)) {
              pieces.push(text.slice(elementStart, index));
              completed.push(finishElement());
              phase = 'comma-or-end';
              index--; // re-read the delimiter in the next phase
            }
            continue;
          }
          if (char === '"') inString = true;
          else if (char === '{' || char === '[') depth++;
          else if (char === '}' || char === ']') {
            depth--;
            if (depth === 0) {
              pieces.push(text.slice(elementStart, index + 1));
              completed.push(finishElement());
              phase = 'comma-or-end';
            }
          } else if (char === '\n') line++;
          continue;
        }
        if (char === '\n') {
          line++;
          continue;
        }
        if (char === ' ' || char === '\t' || char === '\r') continue;
        if (phase === 'start') {
          if (char !== '[') fail('a JSON catalog must be an array of objects (expected "[")');
          phase = 'element-or-end';
        } else if (phase === 'element-or-end' || phase === 'element') {
          if (char === ']') {
            if (phase === 'element') fail('trailing comma before "]"');
            phase = 'done';
            continue;
          }
          if (char === ',') fail('unexpected ","');
          phase = 'inside';
          elementStart = index;
          elementLine = line;
          depth = 0;
          inString = false;
          escaped = false;
          scalar = false;
          if (char === '"') inString = true;
          else if (char === '{' || char === '[') depth = 1;
          else scalar = true;
        } else if (phase === 'comma-or-end') {
          if (char === ',') phase = 'element';
          else if (char === ']') phase = 'done';
          else fail(`expected "," or "]" but found ${JSON.stringify(char)}`);
        } else {
          fail(`unexpected text after the closing "]"`);
        }
      }
      if (phase === 'inside') pieces.push(text.slice(elementStart));
      yield* completed;
    }
  } catch (error) {
    if (error instanceof Error && 'code' in error && error.code === 'E_CATALOG_FILE') throw error;
    throw catalogFileError(displayPath, `cannot read: ${(error as Error).message}`, { cause: error });
  } finally {
    stream.destroy();
  }
  if (phase === 'inside' && scalar) {
    yield finishElement();
    phase = 'comma-or-end';
  }
  if (phase === 'start') fail('is empty (expected a JSON array)');
  if ((phase as Phase) !== 'done') fail('ends before the closing "]" of the array');
}

function toRecord(text: string, rowNumber: number, line: number): SourceRecord {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    if (error instanceof RangeError) return { kind: 'malformed', rowNumber, line, reason: 'is nested too deeply to read' };
    return { kind: 'malformed', rowNumber, line, reason: `not valid JSON: ${(error as Error).message}` };
  }
  return objectRecord(value, text, rowNumber, line);
}

/**
 * Shared by the JSON and JSONL readers: a record must be an object; its members become text
 * fields, numbers as written (`text` is the element's source: json-member-texts.ts).
 */
export function objectRecord(value: unknown, text: string, rowNumber: number, line: number): SourceRecord {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { kind: 'malformed', rowNumber, line, reason: `is ${Array.isArray(value) ? 'an array' : JSON.stringify(value)}, not an object` };
  }
  const { numbers, repeated } = jsonMemberTexts(text);
  if (repeated.length > 0) {
    // JSON.parse keeps the last; which one the merchant meant is theirs to say.
    return { kind: 'malformed', rowNumber, line, reason: `names member ${JSON.stringify(repeated[0])} more than once` };
  }
  const values = new Map<string, string>();
  for (const [name, member] of Object.entries(value)) {
    const written = numbers.get(name);
    try {
      values.set(name, written !== undefined && typeof member === 'number' && losesDigits(member, written) ? written : fieldValueText(member));
    } catch (error) {
      // A value nested thousands deep cannot be turned back into text: this row only.
      if (!(error instanceof RangeError)) throw error;
      return { kind: 'malformed', rowNumber, line, reason: `member ${JSON.stringify(name)} is nested too deeply to read` };
    }
  }
  return { kind: 'record', rowNumber, line, values };
}

/**
 * A number JSON.parse cannot hold as written: past 2^53 (`12345678901234567891`), more significant
 * digits than a double keeps (`0.10000000000000001`), or out of range (`1e400`). Those keep their
 * text; any other keeps the text it always had (`19.90` is `19.9`), so the prompts, and the
 * inputHash of what is stored, of catalogs written before stay the same.
 */
function losesDigits(value: number, written: string): boolean {
  if (!Number.isFinite(value)) return true;
  if (Number.isInteger(value) && !Number.isSafeInteger(value)) return true;
  const digits = written.replace(/^-/, '').replace(/[eE].*$/, '').replace('.', '').replace(/^0+/, '').replace(/0+$/, '');
  return digits.length > 15;
}
