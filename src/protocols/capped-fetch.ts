/**
 * The `fetch` the gateway clients use: the platform's, with the answer's body capped as the
 * Gemini-native client caps it (gemini/bounded-body.ts). The official SDKs read whatever a server
 * sends; a runaway answer would be held whole in the worker, beside its base64 and its image.
 *
 * A body announced larger than the cap is refused before a byte is read; one that grows past it
 * while streaming errors mid-read (the rest is never read: the stream is cancelled, which closes
 * the connection). Either way the error is E_RESPONSE_TOO_LARGE, which the lanes never retry.
 */
import { announcedLength, tooLarge } from '../gemini/bounded-body.js';

export function cappedFetch(maxBytes: number, base: typeof fetch = fetch): typeof fetch {
  return async (input, init) => {
    const response = await base(input, init);
    if (!response.body) return response;
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
    // Response refuses a status outside 200–599 (a gateway's 600): built as 599, the real one put back,
    // so the SDK still classifies it by status (not as a connection failure, which counts as maybe billed).
    const inRange = response.status >= 200 && response.status <= 599;
    const wrapped = new Response(counted, { status: inRange ? response.status : 599, statusText: response.statusText, headers: response.headers });
    if (!inRange) Object.defineProperty(wrapped, 'status', { value: response.status });
    return wrapped;
  };
}
