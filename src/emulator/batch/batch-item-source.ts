import type { InlineBatchRequest } from './batch-create-request.js';
import { readJsonlLines } from './read-jsonl-lines.js';

/** One input of a batch, in input order. `invalid` explains a line that could not be used. */
export interface BatchItem {
  key?: string;
  metadata?: unknown;
  request?: unknown;
  invalid?: string;
}

/** Hands out a batch's inputs one at a time, so a big input file is never read whole. */
export interface BatchItemSource {
  next(): Promise<BatchItem | undefined>;
  close(): Promise<void>;
}

export function inlineItemSource(requests: readonly InlineBatchRequest[]): BatchItemSource {
  let index = 0;
  return {
    next: async () => {
      const item = requests[index];
      index += 1;
      return item === undefined ? undefined : { request: item.request, metadata: item.metadata };
    },
    close: async () => undefined,
  };
}

/** JSONL input: `{"key","request"}` lines; a bare GenerateContentRequest line is served without key. */
export function fileItemSource(path: string): BatchItemSource {
  const lines = readJsonlLines(path);
  return {
    next: async () => {
      const next = await lines.next();
      return next.done ? undefined : toItem(next.value.text, next.value.lineNumber);
    },
    close: async () => {
      await lines.return(undefined);
    },
  };
}

/** Counts the items of a JSONL input without holding it: one pass over the file at create time. */
export async function countJsonlItems(path: string): Promise<number> {
  let count = 0;
  for await (const _line of readJsonlLines(path)) count += 1;
  return count;
}

function toItem(text: string, lineNumber: number): BatchItem {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { invalid: `Invalid JSON on input line ${lineNumber}.` };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return { invalid: `Input line ${lineNumber} is not a JSON object.` };
  }
  const record = parsed as Record<string, unknown>;
  const key = typeof record['key'] === 'string' ? record['key'] : undefined;
  if ('request' in record) {
    const item: BatchItem = { request: record['request'] };
    if (key !== undefined) item.key = key;
    return item;
  }
  if ('contents' in record) return { request: record };
  const item: BatchItem = { invalid: `Input line ${lineNumber} has no "request".` };
  if (key !== undefined) item.key = key;
  return item;
}
