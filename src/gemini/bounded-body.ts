/**
 * Reading a response body without trusting its size. A worker holds every answer in memory (a 4K
 * image is ~24 MB of JSON), so a body larger than the cap (a misbehaving gateway, a runaway
 * answer) is refused: by its Content-Length before a byte is read, or by counting while it
 * streams, and the rest is never read (the stream is cancelled, which closes the connection).
 */
import { BunchError } from '../errors/bunch-error.js';

export const DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

export function tooLarge(maxBytes: number, detail: string): BunchError {
  return new BunchError('E_RESPONSE_TOO_LARGE', `response body is larger than the cap of ${maxBytes} bytes (maxResponseBytes): ${detail}`);
}

export function announcedLength(response: Response): number | undefined {
  const declared = Number(response.headers.get('content-length') ?? NaN);
  return Number.isSafeInteger(declared) && declared >= 0 ? declared : undefined;
}

/**
 * The whole body, at most `maxBytes`, else E_RESPONSE_TOO_LARGE. When the length is announced the
 * body is read into one buffer of that size (no list of chunks concatenated afterwards, as
 * `response.text()` does): per call the worker then holds one raw copy, not two.
 */
export async function readBodyWithin(response: Response, maxBytes: number): Promise<Buffer> {
  if (!response.body) return Buffer.alloc(0);
  const announced = announcedLength(response);
  if (announced !== undefined && announced > maxBytes) {
    await response.body.cancel().catch(() => undefined);
    throw tooLarge(maxBytes, `Content-Length announces ${announced} bytes`);
  }
  const reader = response.body.getReader();
  let sized = announced !== undefined && announced > 0 ? Buffer.allocUnsafe(announced) : undefined;
  let offset = 0;
  let total = 0;
  const chunks: Uint8Array[] = [];
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge(maxBytes, `stopped reading after ${total} bytes`);
    }
    if (sized && offset + value.length <= sized.length) {
      sized.set(value, offset);
      offset += value.length;
      continue;
    }
    if (sized) {
      // More bytes than announced (a compressed body): fall back to collecting; the parser judges the result.
      chunks.push(sized.subarray(0, offset));
      sized = undefined;
    }
    chunks.push(value);
  }
  return sized ? sized.subarray(0, offset) : Buffer.concat(chunks);
}

/**
 * The first `maxBytes` of a body as text, the rest left unread. For error answers, which are only
 * ever shown as a short excerpt or parsed for a small JSON envelope.
 */
export async function readBodyHead(response: Response, maxBytes: number): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    total += value.length;
    if (total >= maxBytes) {
      await reader.cancel().catch(() => undefined);
      break;
    }
  }
  return Buffer.concat(chunks).subarray(0, maxBytes).toString('utf8');
}
