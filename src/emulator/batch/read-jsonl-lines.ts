import { createReadStream } from 'node:fs';

export interface JsonlLine {
  /** 1-based line number in the file. */
  lineNumber: number;
  text: string;
}

/**
 * Yields the non-blank lines of a JSONL file, pulling 64 KiB chunks only as the consumer asks,
 * so a paused consumer holds one chunk plus one line (readline's async iterator would buffer up
 * to a thousand lines, and a batch line can carry megabytes of inline image data).
 */
export async function* readJsonlLines(path: string): AsyncGenerator<JsonlLine> {
  const stream = createReadStream(path);
  let pending: Buffer[] = [];
  let lineNumber = 0;
  const emit = (parts: Buffer[]): JsonlLine | undefined => {
    lineNumber += 1;
    const text = Buffer.concat(parts).toString('utf8').replace(/\r$/, '');
    return text.trim() === '' ? undefined : { lineNumber, text };
  };
  try {
    for await (const chunk of stream) {
      let bytes = chunk as Buffer;
      let newline = bytes.indexOf(0x0a);
      while (newline !== -1) {
        pending.push(bytes.subarray(0, newline));
        const line = emit(pending);
        pending = [];
        if (line) yield line;
        bytes = bytes.subarray(newline + 1);
        newline = bytes.indexOf(0x0a);
      }
      if (bytes.length > 0) pending.push(bytes);
    }
    if (pending.length > 0) {
      const line = emit(pending);
      if (line) yield line;
    }
  } finally {
    stream.destroy();
  }
}
