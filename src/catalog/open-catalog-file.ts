import { open, type FileHandle } from 'node:fs/promises';
import { catalogFileError } from './catalog-file-error.js';

/** Opens the catalog up front so that a missing or unreadable file is one clear error, not a stream crash. */
export async function openCatalogFile(file: string, displayPath: string): Promise<FileHandle> {
  let handle: FileHandle;
  try {
    handle = await open(file, 'r');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : `cannot open (${code ?? 'error'})`;
    throw catalogFileError(displayPath, why, { cause: error });
  }
  const stats = await handle.stat();
  if (!stats.isFile()) {
    await handle.close();
    throw catalogFileError(displayPath, 'is not a regular file');
  }
  return handle;
}
