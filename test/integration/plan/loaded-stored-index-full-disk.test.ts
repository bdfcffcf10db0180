import { execFile } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir, type TempDir } from '../../helpers/temp-dir.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const run = promisify(execFile);

let dir: TempDir;
beforeAll(async () => {
  dir = await tempDir('index-full-disk');
});
afterAll(async () => dir?.remove());

describe('LoadedStoredIndex.load on a temp disk that is full', () => {
  it('rejects with the write error (planning then reads markers) instead of crashing the process, and leaves no temp folder', { timeout: 60_000 }, async () => {
    // `ulimit -f 64`: writes past 64 KiB fail with EFBIG (Node ignores SIGXFSZ), as ENOSPC would on
    // a full disk. The index (~360 KB) arrives in 1 KB chunks 5 ms apart, so the failing
    // write completes between chunks, while the load is waiting on the source, not on the file.
    const script = `ulimit -f 64 && TSX_DISABLE_CACHE=1 exec "${process.execPath}" --import tsx test/helpers/load-index-slowly.ts "${dir.path}"`;
    const { stdout } = await run('bash', ['-c', script], { cwd: repoRoot }).catch((error: { stdout: string }) => ({ stdout: error.stdout }));
    expect(JSON.parse(stdout.trim().split('\n').at(-1) as string)).toEqual({ outcome: 'rejected', code: 'EFBIG' });
    expect(await readdir(dir.path)).toEqual([]);
  });
});
