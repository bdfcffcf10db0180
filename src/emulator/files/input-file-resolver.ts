import { readFile } from 'node:fs/promises';
import { GoogleApiError } from '../google-error.js';
import { MAX_BODY_BYTES } from '../read-body.js';
import { emulatorFileIdOf } from './emulator-file-uri.js';
import type { FileStore } from './file-store.js';

/**
 * Follows a generateContent `fileData.fileUri` into the emulator's own Files API store.
 * - Not one of ours (see emulator-file-uri.ts) → undefined: the caller keeps it as seed only.
 * - Ours but never uploaded, deleted or expired → 403 PERMISSION_DENIED "You do not have
 *   permission to access the File <id> or it may not exist.", the answer Google gives for a
 *   file the caller cannot see (it does not tell "missing" from "someone else's").
 * - Ours but larger than a request body may be (100 MB) → 400 INVALID_ARGUMENT: it could not have
 *   been sent inline either, and the emulator does not hold more than that in memory per input.
 * - Ours → its bytes and mime type, read whole from disk.
 */
export interface ResolvedInputFile {
  /** `files/<id>` */
  name: string;
  mimeType: string;
  bytes: Buffer;
}

export interface InputFileResolver {
  resolve(fileUri: string): Promise<ResolvedInputFile | undefined>;
}

export function createInputFileResolver(store: () => FileStore, baseUrl: () => string): InputFileResolver {
  return {
    async resolve(fileUri) {
      const id = emulatorFileIdOf(fileUri, baseUrl());
      if (id === undefined) return undefined;
      const file = store().get(id);
      if (!file) throw fileNotAccessible(id);
      if (file.sizeBytes > MAX_BODY_BYTES) {
        throw new GoogleApiError(
          400,
          'INVALID_ARGUMENT',
          `File files/${id} is too large to use as an input image: ${file.sizeBytes} bytes (the emulator reads at most ${MAX_BODY_BYTES}).`,
        );
      }
      let bytes: Buffer;
      try {
        bytes = await readFile(file.path);
      } catch {
        // Deleted between the lookup and the read: as gone as never uploaded.
        throw fileNotAccessible(id);
      }
      return { name: `files/${id}`, mimeType: file.mimeType, bytes };
    },
  };
}

export function fileNotAccessible(id: string): GoogleApiError {
  return new GoogleApiError(403, 'PERMISSION_DENIED', `You do not have permission to access the File ${id} or it may not exist.`);
}
