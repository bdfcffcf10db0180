import { open, readFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeStreamToHandle } from '../../../src/storage/write-stream-to-handle.js';
import { tempDir, type TempDir } from '../../helpers/temp-dir.js';

let dir: TempDir;
beforeAll(async () => {
  dir = await tempDir('write-stream');
});
afterAll(async () => dir?.remove());

/** Writes `chunks` to a fresh file, counting the writes that reach the file handle. */
async function writeCounted(name: string, chunks: (Buffer | string)[]): Promise<{ bytes: Buffer; writes: number; sizes: number[] }> {
  const file = path.join(dir.path, name);
  const handle = await open(file, 'wx');
  const sizes: number[] = [];
  const write = handle.write.bind(handle) as (buffer: Buffer, offset: number, length: number) => Promise<{ bytesWritten: number }>;
  (handle as unknown as { write: typeof write }).write = (buffer, offset, length) => {
    sizes.push(length);
    return write(buffer, offset, length);
  };
  try {
    await writeStreamToHandle(handle, Readable.from(chunks, { objectMode: true }));
  } finally {
    await handle.close();
  }
  return { bytes: await readFile(file), writes: sizes.length, sizes };
}

describe('writeStreamToHandle', () => {
  it('writes a stream of short lines in order, gathered into one write per 64 KiB', async () => {
    const lines = Array.from({ length: 1000 }, (_, i) => `{"index":${i},"title":"Lampe ${i} – café"}\n`);
    const { bytes, writes } = await writeCounted('lines.jsonl', lines);
    expect(bytes.toString('utf8')).toBe(lines.join(''));
    const total = Buffer.byteLength(lines.join(''), 'utf8');
    expect(total).toBeLessThan(64 * 1024);
    expect(writes).toBe(1);
  });

  it('mixes strings, buffers and empty chunks, gathered into 64 KiB writes', async () => {
    const kib = (fill: number) => Buffer.alloc(1024, fill);
    const chunks: (Buffer | string)[] = ['', ...Array.from({ length: 200 }, (_, i) => kib(i % 256)), Buffer.alloc(0), 'tail ✓'];
    const { bytes, writes } = await writeCounted('mixed.bin', chunks);
    expect(bytes.equals(Buffer.concat(chunks.map((c) => (typeof c === 'string' ? Buffer.from(c, 'utf8') : c))))).toBe(true);
    // 200 KiB + a few bytes: three full 64 KiB batches, then the remaining 8 KiB and the tail.
    expect(writes).toBe(4);

  });

  it('a chunk of 64 KiB or more is written on its own, after what waited before it (never copied into a batch)', async () => {
    const big = Buffer.alloc(300 * 1024, 7);
    const { bytes, writes, sizes } = await writeCounted('big.bin', ['head', big, 'tail']);
    expect(bytes.equals(Buffer.concat([Buffer.from('head'), big, Buffer.from('tail')]))).toBe(true);
    expect(writes).toBe(3);
    expect(sizes).toEqual([4, 300 * 1024, 4]);
  });

  it('a write that takes fewer bytes than offered is followed by the rest', async () => {
    const file = path.join(dir.path, 'short-writes.bin');
    const handle = await open(file, 'wx');
    const write = handle.write.bind(handle) as (buffer: Buffer, offset: number, length: number) => Promise<{ bytesWritten: number }>;
    // The file takes at most 1,000 bytes a write, as a nearly full disk may.
    (handle as unknown as { write: typeof write }).write = (buffer, offset, length) => write(buffer, offset, Math.min(length, 1000));
    const lines = Array.from({ length: 500 }, (_, i) => `line ${i}\n`);
    try {
      await writeStreamToHandle(handle, Readable.from(lines, { objectMode: true }));
    } finally {
      await handle.close();
    }
    expect((await readFile(file)).toString('utf8')).toBe(lines.join(''));
  });

  it('an empty stream writes nothing', async () => {
    expect(await writeCounted('empty.bin', [])).toEqual({ bytes: Buffer.alloc(0), writes: 0, sizes: [] });
  });
});
