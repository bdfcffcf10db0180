import type { IncomingMessage } from 'node:http';
import { GoogleApiError } from './google-error.js';

/** Largest request body the emulator accepts (the API's inline request limit). */
export const MAX_BODY_BYTES = 100 * 1024 * 1024;

/**
 * Reads a whole request body of at most `limit` bytes (checked against Content-Length up front and
 * against the bytes as they arrive); over the limit → the API's 400. The body is drained even when
 * it is too large, so the 400 reaches the client instead of a connection reset.
 */
export async function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  let tooLarge = Number.isFinite(declared) && declared > limit;
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    total += buffer.length;
    if (total > limit) tooLarge = true;
    if (!tooLarge) chunks.push(buffer);
  }
  if (tooLarge) throw new GoogleApiError(400, 'INVALID_ARGUMENT', `Request payload size exceeds the limit: ${limit} bytes.`);
  return Buffer.concat(chunks);
}

/** Parses a JSON body; invalid JSON → 400 INVALID_ARGUMENT like the API. */
export function parseJsonBody(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch {
    throw new GoogleApiError(400, 'INVALID_ARGUMENT', 'Invalid JSON payload received. Unexpected token.');
  }
}

/** A JSON body of the Files and Batch routes, where an empty body reads as `{}`. */
export async function readJsonBody(req: IncomingMessage, limit: number): Promise<unknown> {
  const text = (await readBody(req, limit)).toString('utf8');
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new GoogleApiError(400, 'INVALID_ARGUMENT', 'Invalid JSON payload received.');
  }
}
