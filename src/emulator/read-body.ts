import type { IncomingMessage } from 'node:http';
import { GoogleApiError } from './google-error.js';

/** Largest request body the emulator accepts (the API's inline request limit). */
export const MAX_BODY_BYTES = 100 * 1024 * 1024;

/** Reads a whole request body; over the limit → 400 like the API's payload-size error. */
export async function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    total += buffer.length;
    if (total > limit) {
      throw new GoogleApiError(400, 'INVALID_ARGUMENT', `Request payload size exceeds the limit: ${limit} bytes.`);
    }
    chunks.push(buffer);
  }
  return Buffer.concat(chunks, total);
}

/** Parses a JSON body; invalid JSON → 400 INVALID_ARGUMENT like the API. */
export function parseJsonBody(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch {
    throw new GoogleApiError(400, 'INVALID_ARGUMENT', 'Invalid JSON payload received. Unexpected token.');
  }
}
