import type { Readable } from 'node:stream';

/**
 * Splits a byte stream into UTF-8 lines, pulling one chunk at a time: the consumer's pace drives
 * the reads, so memory holds one chunk plus the current line, however large the stream (a batch
 * result line with a 4K image is 20+ MB of base64; a result file can be gigabytes). A trailing
 * line without `\n` is yielded too; empty lines are skipped.
 *
 * Memory care for huge lines: a chunk with no newline belongs wholly to the current line and is
 * kept as is (no copy); only a tail after a newline is copied (a view would pin the whole chunk).
 * The assembled Buffer is dropped before the string is handed out, so while the consumer works
 * on a line the generator holds nothing of it.
 */
export async function* readLines(source: Readable): AsyncGenerator<string> {
  let parts: Buffer[] = [];
  for await (const chunk of source as AsyncIterable<Buffer>) {
    let start = 0;
    for (;;) {
      const newline = chunk.indexOf(10, start);
      if (newline === -1) break;
      const text = lineText(parts, chunk.subarray(start, newline));
      parts = [];
      start = newline + 1;
      if (text.length > 0) yield text;
    }
    if (start === 0) parts.push(chunk);
    else if (start < chunk.length) parts.push(Buffer.from(chunk.subarray(start)));
  }
  if (parts.length > 0) {
    const text = lineText(parts, Buffer.alloc(0));
    parts = [];
    if (text.length > 0) yield text;
  }
}

function lineText(parts: Buffer[], last: Buffer): string {
  return (parts.length === 0 ? last : Buffer.concat([...parts, last])).toString('utf8');
}
