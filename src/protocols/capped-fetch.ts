/**
 * The `fetch` the gateway clients use: the platform's, with the answer's body capped as the
 * Gemini-native client caps it (gemini/bounded-body.ts). The official SDKs read whatever a server
 * sends; a runaway answer would be held whole in the worker, beside its base64 and its image.
 *
 * A body announced larger than the cap is refused before a byte is read; one that grows past it
 * while streaming errors mid-read (the rest is never read: the stream is cancelled, which closes
 * the connection). Either way the error is E_RESPONSE_TOO_LARGE, which the lanes never retry.
 * An error answer (4xx, 5xx) is never refused for its size: its first 64 KiB are read, the rest not.
 */
import { announcedLength, readBodyHead, tooLarge } from '../gemini/bounded-body.js';

/** Error answers are only ever shown as an excerpt or read for a small JSON envelope (as on the native path). */
const ERROR_BODY_BYTES = 64 * 1024;

export function cappedFetch(maxBytes: number, base: typeof fetch = fetch): typeof fetch {
  return async (input, init) => {
    const response = await base(input, init);
    if (!response.body) return response;
    // An error answer keeps its status whatever its size (a 503 page or a 429 must be classified
    // by status, retried and not counted as maybe billed): only its head is read.
    if (!response.ok) return rebuilt(response, await readBodyHead(response, ERROR_BODY_BYTES));
    const announced = announcedLength(response);
    if (announced !== undefined && announced > maxBytes) {
      await response.body.cancel().catch(() => undefined);
      throw tooLarge(maxBytes, `Content-Length announces ${announced} bytes`);
    }
    let total = 0;
    const counted = response.body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          total += chunk.length;
          if (total > maxBytes) controller.error(tooLarge(maxBytes, `stopped reading after ${total} bytes`));
          else controller.enqueue(chunk);
        },
      }),
    );
    return rebuilt(response, counted);
  };
}

/**
 * The answer with another body. Response refuses a status outside 200–599 (a gateway's 600): built
 * as 599 and the real one put back, so the SDK still classifies it by status (not as a failed
 * connection, which counts as maybe billed).
 */
function rebuilt(response: Response, body: ReadableStream<Uint8Array> | string): Response {
  const headers = new Headers(response.headers);
  // The body is no longer the one these described.
  headers.delete('content-length');
  headers.delete('content-encoding');
  const inRange = response.status >= 200 && response.status <= 599;
  const wrapped = new Response(body, { status: inRange ? response.status : 599, statusText: response.statusText, headers });
  if (!inRange) Object.defineProperty(wrapped, 'status', { value: response.status });
  return wrapped;
}
