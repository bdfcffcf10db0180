import { once } from 'node:events';
import type { Readable, Writable } from 'node:stream';

/** A local open and close take microseconds; seconds only when the pool is queued deep. */
const CLOSE_BOUND_MS = 10_000;

/**
 * Destroys a file stream if needed and waits for its 'close': its descriptor released, and an open
 * still queued in the libuv pool (behind sharp, crypto or other fs work) landed first. Waits at
 * most `boundMs`, then the caller goes on regardless; true when it closed in time. Callers that
 * remove the file afterwards need this: `stream.pipeline` settles on the first error without
 * waiting for the other streams to close.
 */
export async function untilClosed(stream: Readable | Writable, boundMs = CLOSE_BOUND_MS): Promise<boolean> {
  if (stream.closed) return true;
  if (!stream.destroyed) stream.destroy();
  try {
    await once(stream, 'close', { signal: AbortSignal.timeout(boundMs) });
    return true;
  } catch {
    return stream.closed;
  }
}
