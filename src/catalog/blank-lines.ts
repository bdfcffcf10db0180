import { Transform, type TransformCallback } from 'node:stream';

/**
 * Empties the given lines of a byte stream (1-based; a line ends at LF or a lone CR, as csv-parse
 * counts them after CrlfToLf), keeping their line breaks so every other line keeps its number.
 * csv-readers.ts reads a catalog again with the line of a never-closed quote emptied, so the rows
 * after it are read instead of swallowed into one field to the end of the file.
 */
export class BlankLines extends Transform {
  private line = 1;

  constructor(private readonly blanked: ReadonlySet<number>) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.blanked.size === 0) {
      callback(null, chunk);
      return;
    }
    const kept: Buffer[] = [];
    let start = 0;
    for (let index = 0; index < chunk.length; index++) {
      const byte = chunk[index] as number;
      if (byte !== 0x0a && byte !== 0x0d) continue;
      // The line's bytes go out unless it is blanked; its break always does.
      kept.push(chunk.subarray(this.blanked.has(this.line) ? index : start, index + 1));
      start = index + 1;
      this.line += 1;
    }
    if (start < chunk.length && !this.blanked.has(this.line)) kept.push(chunk.subarray(start));
    callback(null, Buffer.concat(kept));
  }
}
