import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { BunchError, formatLocation } from '../errors/bunch-error.js';
import type { FieldPath, JobSource } from './job-source.js';
import { jobFileError } from './job-file-error.js';
import { resolveJob } from './resolve-job.js';
import type { ResolvedJob } from './resolved-job.js';

/**
 * Reads a job file (`.yaml`/`.yml`, or `.json`) and resolves it. JSON is parsed with the YAML
 * parser too (YAML 1.2 is a superset of JSON) so errors in either carry line numbers. Reads the
 * `system: { file }` text as well, relative to the job file.
 */
export async function loadJobFile(file: string): Promise<ResolvedJob> {
  const extension = path.extname(file).toLowerCase();
  if (!['.yaml', '.yml', '.json'].includes(extension)) {
    throw jobFileError({ file }, [], 'job files end in .yaml, .yml or .json');
  }
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    throw jobFileError({ file }, [], `cannot read the job file (${(error as NodeJS.ErrnoException).code ?? 'error'})`, error);
  }
  const text = utf8Text(bytes, file);
  const lineCounter = new LineCounter();
  const document = parseDocument(text.replace(/^\uFEFF/, ''), { lineCounter, uniqueKeys: true });
  const syntaxError = document.errors[0];
  if (syntaxError) {
    const line = syntaxError.linePos?.[0].line;
    const what = syntaxError.message.split('\n')[0] ?? syntaxError.code;
    const location = line === undefined ? { file } : { file, line };
    throw new BunchError('E_JOB_FILE', `${formatLocation(location)}: not valid ${extension === '.json' ? 'JSON' : 'YAML'}: ${what}`, {
      location,
      cause: syntaxError,
    });
  }
  let raw: unknown;
  try {
    raw = document.toJS();
  } catch (error) {
    // The yaml library refuses aliases that expand past a limit (a "billion laughs" file).
    throw new BunchError('E_JOB_FILE', `${formatLocation({ file })}: not usable ${extension === '.json' ? 'JSON' : 'YAML'}: ${(error as Error).message}`, { location: { file }, cause: error });
  }
  const source: JobSource = { file, lineOf: (fieldPath) => lineOf(document, lineCounter, fieldPath) };
  const systemFile = systemFilePath(raw);
  if (systemFile !== undefined) {
    const absolute = path.resolve(path.dirname(file), systemFile);
    try {
      source.systemFileText = await readFile(absolute, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'error';
      throw jobFileError(source, ['system', 'file'], `cannot read "${systemFile}" (${code})`, error);
    }
  }
  const schemaFile = captionSchemaPath(raw);
  if (schemaFile !== undefined) {
    const absolute = path.resolve(path.dirname(file), schemaFile);
    try {
      source.captionSchemaText = await readFile(absolute, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'error';
      throw jobFileError(source, ['caption', 'schema', 'file'], `cannot read "${schemaFile}" (${code})`, error);
    }
  }
  return resolveJob(raw, source);
}

/**
 * The file as UTF-8, refusing bytes that are not: decoded leniently, a mis-saved file (Latin-1
 * accents) would put U+FFFD into every prompt it touches without a word.
 */
function utf8Text(bytes: Buffer, file: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    const bad = firstInvalidUtf8Byte(bytes);
    const line = bytes.subarray(0, bad).toString('latin1').split('\n').length;
    const location = { file, line };
    throw new BunchError('E_JOB_FILE', `${formatLocation(location)}: not UTF-8 text (byte 0x${(bytes[bad] ?? 0).toString(16).padStart(2, '0')} at offset ${bad}); save the file as UTF-8`, { location });
  }
}

/** The offset of the first byte that does not belong to valid UTF-8 (the decoder says only that one exists). */
function firstInvalidUtf8Byte(bytes: Buffer): number {
  let low = 0;
  let high = bytes.length;
  // The longest prefix holding no invalid byte, by bisection ("stream" lets a prefix end inside a
  // character, so every prefix of a valid one is valid too).
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(0, middle), { stream: true });
      low = middle;
    } catch {
      high = middle - 1;
    }
  }
  // Cut inside a character that never completes (a Latin-1 "é" then a space): it starts at its lead byte.
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(0, low));
    return low;
  } catch {
    let start = low - 1;
    while (start > 0 && ((bytes[start] as number) & 0xc0) === 0x80) start -= 1;
    return start;
  }
}

function captionSchemaPath(raw: unknown): string | undefined {
  const caption = (raw as { caption?: unknown } | null)?.caption;
  const schema = (caption as { schema?: unknown } | null | undefined)?.schema;
  const file = (schema as { file?: unknown } | null | undefined)?.file;
  return typeof file === 'string' && Object.keys(schema as object).length === 1 ? file : undefined;
}

function systemFilePath(raw: unknown): string | undefined {
  const system = (raw as { system?: unknown } | null)?.system;
  const file = (system as { file?: unknown } | null | undefined)?.file;
  return typeof file === 'string' ? file : undefined;
}

function lineOf(document: Document, lineCounter: LineCounter, fieldPath: FieldPath): number | undefined {
  // For a mapping member, point at its key (where the operator looks); for sequence items, the item.
  let node: unknown = document.contents;
  let position: number | undefined;
  for (const segment of fieldPath) {
    if (isMap(node)) {
      const pair = node.items.find((item) => isScalar(item.key) && String(item.key.value) === String(segment));
      if (!pair) return undefined;
      position = (pair.key as Node).range?.[0];
      node = pair.value;
    } else if (isSeq(node) && typeof segment === 'number') {
      const item = node.items[segment] as Node | undefined;
      if (!item) return undefined;
      position = item.range?.[0];
      node = item;
    } else {
      return undefined;
    }
  }
  return position === undefined ? undefined : lineCounter.linePos(position).line;
}
