import type { FileHandle } from 'node:fs/promises';

/** Small chunks are gathered up to this many bytes per write. */
const WRITE_BATCH_BYTES = 64 * 1024;

/**
 * Writes every chunk of `source` to `handle`, in order. Chunks smaller than 64 KiB are gathered
 * into one write: a stream of many short lines (a manifest yields one per item) would otherwise
 * cost a thread-pool round trip per line — 400 lines took ≈ 35 ms here, a million over a minute.
 * A bigger chunk is written as it is, after what waited before it (never copied into a batch).
 * Holds at most one batch and one chunk in memory; each awaited write is the backpressure.
 */
export async function writeStreamToHandle(handle: FileHandle, source: AsyncIterable<Buffer | string>): Promise<void> {
  let batch: Buffer[] = [];
  let batchBytes = 0;
  const flush = async () => {
    if (batchBytes === 0) return;
    const bytes = batch.length === 1 ? (batch[0] as Buffer) : Buffer.concat(batch, batchBytes);
    batch = [];
    batchBytes = 0;
    await writeAll(handle, bytes);
  };
  for await (const chunk of source) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    if (bytes.length === 0) continue;
    if (bytes.length >= WRITE_BATCH_BYTES) {
      await flush();
      await writeAll(handle, bytes);
      continue;
    }
    batch.push(bytes);
    batchBytes += bytes.length;
    if (batchBytes >= WRITE_BATCH_BYTES) await flush();
  }
  await flush();
}

/** A write may take fewer bytes than offered (a nearly full disk): the rest follows. */
async function writeAll(handle: FileHandle, bytes: Buffer): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) {
    const { bytesWritten } = await handle.write(bytes, offset, bytes.length - offset);
    if (bytesWritten === 0) throw new Error('the file took no bytes');
    offset += bytesWritten;
  }
}
