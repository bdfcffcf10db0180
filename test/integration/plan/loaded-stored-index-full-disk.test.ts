import { readdir } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir, type TempDir } from '../../helpers/temp-dir.js';
import { underFileSizeLimit } from '../../helpers/under-file-size-limit.js';

let dir: TempDir;
beforeAll(async () => {
  dir = await tempDir('index-full-disk');
});
afterAll(async () => dir?.remove());

describe('LoadedStoredIndex.load on a temp disk that is full', () => {
  it('rejects with the write error (planning then reads markers) instead of crashing the process, and leaves no temp folder', { timeout: 60_000 }, async () => {
    // Writes past 64 KiB fail. The index (~360 KB) arrives in 1 KB chunks 5 ms apart, so the
    // failing write completes between chunks, while the load is waiting on the source, not on the file.
    expect(await underFileSizeLimit(64, 'test/helpers/load-index-slowly.ts', [dir.path])).toEqual({ outcome: 'rejected', code: 'EFBIG' });
    expect(await readdir(dir.path)).toEqual([]);
  });
});
