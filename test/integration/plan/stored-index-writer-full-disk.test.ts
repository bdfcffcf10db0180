import { mkdir, readdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir, type TempDir } from '../../helpers/temp-dir.js';
import { underFileSizeLimit } from '../../helpers/under-file-size-limit.js';

let dir: TempDir;
beforeAll(async () => {
  dir = await tempDir('index-writer-full-disk');
});
afterAll(async () => dir?.remove());

describe('StoredIndexWriter on a temp disk that fills up while records come in', () => {
  it('stops, puts nothing and says why, instead of crashing the worker; its temp folder is removed', { timeout: 60_000 }, async () => {
    const temp = path.join(dir.path, 'temp');
    const store = path.join(dir.path, 'store');
    await mkdir(temp);
    // Writes past 64 KiB fail. 600 entries (~200 KB) come ten at a time, 5 ms apart: the failing
    // write lands while the writer waits for records, not on the file.
    const outcome = (await underFileSizeLimit(64, 'test/helpers/write-index-slowly.ts', [store], { TMPDIR: temp })) as { outcome: string; entries: number; code: string };
    expect(outcome).toMatchObject({ outcome: 'not-uploaded', code: 'EFBIG' });
    expect(outcome.entries).toBeGreaterThan(0);
    expect(outcome.entries).toBeLessThan(600);
    expect(await readdir(temp)).toEqual([]);
    await expect(readdir(path.join(store, 'runs'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
