import type { Readable } from 'node:stream';
import { BunchError } from '../errors/bunch-error.js';

/**
 * Reads a stream into one buffer, refusing as soon as more than `maxBytes` arrived and giving up
 * at `deadline` (epoch ms). The stream is destroyed on either refusal, so the source stops sending.
 */
export async function readLimited(stream: Readable, maxBytes: number, deadline: number, what: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  const remaining = Math.max(0, deadline - Date.now());
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      stream.destroy();
      reject(new BunchError('E_REFERENCE', `reference ${what}: reading took longer than allowed`, { reason: 'timeout' }));
    }, remaining);
  });
  const read = (async () => {
    try {
      for await (const chunk of stream) {
        const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
        total += buffer.length;
        if (total > maxBytes) {
          stream.destroy();
          throw new BunchError('E_REFERENCE', `reference ${what} is larger than ${maxBytes} bytes (references.maxBytes)`, { reason: 'too-large' });
        }
        chunks.push(buffer);
      }
    } catch (error) {
      if (error instanceof BunchError) throw error;
      // A connection reset mid-body, a folder opened as a file: the row's reference, not the run's trouble.
      const message = error instanceof Error ? error.message : String(error);
      throw new BunchError('E_REFERENCE', `reference ${what} could not be read: ${message.slice(0, 200)}`, { reason: 'network', cause: error });
    }
    return Buffer.concat(chunks, total);
  })();
  try {
    return await Promise.race([read, timeout]);
  } finally {
    clearTimeout(timer);
    read.catch(() => undefined);
  }
}
