import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { link } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { untilClosed } from '../../../src/storage/until-closed.js';
import { tempDir, type TempDir } from '../../helpers/temp-dir.js';

let dir: TempDir;
beforeAll(async () => {
  dir = await tempDir('until-closed');
});
afterAll(async () => dir?.remove());

describe('untilClosed', () => {
  it('destroys a stream still opening, waits for its close, and gives up at the bound', async () => {
    // A FIFO with no reader: the write stream's open stays pending until one comes.
    const fifo = path.join(dir.path, 'pending');
    execFileSync('mkfifo', [fifo]);
    await link(fifo, path.join(dir.path, 'reader-end'));
    const stream = createWriteStream(fifo);
    expect(await untilClosed(stream, 200)).toBe(false);
    expect(stream.destroyed).toBe(true);
    const waiting = untilClosed(stream, 30_000);
    const reader = createReadStream(path.join(dir.path, 'reader-end'));
    const readerClosed = once(reader, 'close');
    reader.resume();
    expect(await waiting).toBe(true);
    expect(stream.closed).toBe(true);
    await readerClosed;
  });

  it('is true at once for a stream already closed', async () => {
    const stream = createWriteStream(path.join(dir.path, 'plain'));
    stream.end('bytes');
    await once(stream, 'close');
    expect(await untilClosed(stream, 1)).toBe(true);
  });
});
