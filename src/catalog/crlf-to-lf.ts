import { Transform, type TransformCallback } from 'node:stream';

/**
 * Turns CRLF into LF in a byte stream. csv-parse counts the CR and the LF of a quoted CRLF as two
 * lines, which would put every later row's line number off by one; with LF only its counts are
 * exact. Works on bytes (CR and LF never occur inside a UTF-8 multi-byte sequence) and holds back
 * a trailing CR until the next chunk shows whether an LF follows.
 */
export class CrlfToLf extends Transform {
  private pendingCr = false;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    let input = this.pendingCr ? Buffer.concat([Buffer.from([0x0d]), chunk]) : chunk;
    this.pendingCr = input.length > 0 && input[input.length - 1] === 0x0d;
    if (this.pendingCr) input = input.subarray(0, input.length - 1);
    callback(null, stripCr(input));
  }

  override _flush(callback: TransformCallback): void {
    callback(null, this.pendingCr ? Buffer.from([0x0d]) : undefined);
  }
}

function stripCr(input: Buffer): Buffer {
  if (input.indexOf(0x0d) === -1) return input;
  const output = Buffer.allocUnsafe(input.length);
  let length = 0;
  for (let index = 0; index < input.length; index++) {
    const byte = input[index] as number;
    if (byte === 0x0d && input[index + 1] === 0x0a) continue;
    output[length++] = byte;
  }
  return output.subarray(0, length);
}
