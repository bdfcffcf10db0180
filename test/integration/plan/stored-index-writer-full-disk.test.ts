import { execFile } from 'node:child_process';
import { mkdir, readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir, type TempDir } from '../../helpers/temp-dir.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const run = promisify(execFile);

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
    // `ulimit -f 64`: writes past 64 KiB fail with EFBIG (Node ignores SIGXFSZ), as ENOSPC would on
    // a full disk. 600 entries (~200 KB) come ten at a time, 5 ms apart: the failing write lands
    // while the writer waits for records, not on the file.
    const script = `ulimit -f 64 && TSX_DISABLE_CACHE=1 TMPDIR="${temp}" exec "${process.execPath}" --import tsx test/helpers/write-index-slowly.ts "${store}"`;
    const { stdout } = await run('bash', ['-c', script], { cwd: repoRoot }).catch((error: { stdout: string }) => ({ stdout: error.stdout }));
    const outcome = JSON.parse(stdout.trim().split('\n').at(-1) as string) as { outcome: string; entries: number; code: string };
    expect(outcome).toMatchObject({ outcome: 'not-uploaded', code: 'EFBIG' });
    expect(outcome.entries).toBeGreaterThan(0);
    expect(outcome.entries).toBeLessThan(600);
    expect(await readdir(temp)).toEqual([]);
    await expect(readdir(path.join(store, 'runs'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
