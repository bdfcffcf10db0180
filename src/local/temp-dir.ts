import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface TempDir {
  path: string;
  remove(): Promise<void>;
}

/** A fresh, empty directory under the OS temp dir; `remove()` deletes it and everything inside. */
export async function tempDir(label = 'test'): Promise<TempDir> {
  const dir = await mkdtemp(path.join(tmpdir(), `bunch-${label}-`));
  return { path: dir, remove: () => rm(dir, { recursive: true, force: true }) };
}
