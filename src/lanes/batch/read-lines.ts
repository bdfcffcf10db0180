import type { Readable } from 'node:stream';

/**
 * Splits a byte stream into UTF-8 lines, pulling one chunk at a time: the consumer's pace drives
 * the reads, so memory holds one chunk plus the current line, however large the stream (a batch
 * result line with a 4K image is 20+ MB of base64; a result file can be gigabytes). A trailing
 * line without `\n` is yielded too; empty lines are skipped.
 */
export async function* readLines(source: Readable): AsyncGenerator<string> {
  let parts: Buffer[] = [];
  for await (const chunk of source as AsyncIterable<Buffer>) {
    let start = 0;
    for (;;) {
      const newline = chunk.indexOf(10, start);
      if (newline === -1) break;
      const piece = chunk.subarray(start, newline);
      const line = parts.length === 0 ? piece : Buffer.concat([...parts, piece]);
      parts = [];
      start = newline + 1;
      if (line.length > 0) yield line.toString('utf8');
    }
    // Copy the tail: keeping a view would pin the whole chunk until the line ends.
    if (start < chunk.length) parts.push(Buffer.from(chunk.subarray(start)));
  }
  if (parts.length > 0) {
    const line = Buffer.concat(parts);
    if (line.length > 0) yield line.toString('utf8');
  }
}
