import type { IncomingMessage } from 'node:http';
import { GoogleApiError } from '../google-error.js';

/**
 * Reads a JSON request body of at most `maxBytes` (checked against Content-Length up front and
 * against the bytes as they arrive). An empty body reads as `{}`. Errors are the API's 400s.
 */
export async function readJsonBody(req: IncomingMessage, maxBytes: number): Promise<unknown> {
  const declared = Number(req.headers['content-length']);
  let tooLarge = Number.isFinite(declared) && declared > maxBytes;
  const chunks: Buffer[] = [];
  let size = 0;
  // Drain the whole body even when it is too large, so the 400 reaches the client instead of a reset.
  for await (const chunk of req) {
    const bytes = chunk as Buffer;
    size += bytes.length;
    if (size > maxBytes) tooLarge = true;
    if (!tooLarge) chunks.push(bytes);
  }
  if (tooLarge) {
    throw new GoogleApiError(400, 'INVALID_ARGUMENT', `Request payload size exceeds the limit: ${maxBytes} bytes.`);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new GoogleApiError(400, 'INVALID_ARGUMENT', 'Invalid JSON payload received.');
  }
}
