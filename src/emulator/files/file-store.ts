import { mkdir, rm } from 'node:fs/promises';
import { createReadStream, type ReadStream } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { EmulatorContext } from '../emulator-context.js';
import { GoogleApiError } from '../google-error.js';
import { HashingFileWriter } from './hashing-file-writer.js';
import { randomResourceId } from './random-resource-id.js';

/**
 * The emulator's file storage behind the Files API: bodies live on disk under
 * `<dataDir>/files/<id>`, metadata in memory. Uploads (source UPLOADED) arrive through resumable
 * upload sessions; batch results (source GENERATED) are written by the batch engine through
 * `createGenerated`. A file expires `fileTtlMs` after creation and then behaves as if deleted.
 */
export type FileSource = 'UPLOADED' | 'GENERATED';

export interface StoredFile {
  readonly id: string;
  readonly displayName: string | undefined;
  readonly mimeType: string;
  readonly sizeBytes: number;
  readonly sha256Base64: string;
  readonly createTimeMs: number;
  readonly expireTimeMs: number;
  readonly source: FileSource;
  readonly path: string;
}

export interface UploadStart {
  displayName?: string | undefined;
  mimeType?: string | undefined;
  /** From `X-Goog-Upload-Header-Content-Length`; checked against the bytes that arrive. */
  declaredSize?: number | undefined;
}

interface UploadSession {
  readonly uploadId: string;
  readonly fileId: string;
  readonly start: UploadStart;
  readonly writer: HashingFileWriter;
  busy: boolean;
}

/** A GENERATED file being written; it becomes visible to the Files API only on `finish`. */
export interface GeneratedFileWriter {
  readonly fileId: string;
  write(chunk: string | Buffer): Promise<void>;
  finish(): Promise<StoredFile>;
  abort(): Promise<void>;
}

export interface FileStoreOptions {
  dataDir: string;
  now(): number;
  maxFileBytes: number;
  fileTtlMs: number;
}

export class FileStore {
  private readonly files = new Map<string, StoredFile>();
  private readonly uploads = new Map<string, UploadSession>();
  private readonly directory: string;

  constructor(private readonly options: FileStoreOptions) {
    this.directory = join(options.dataDir, 'files');
  }

  get maxFileBytes(): number {
    return this.options.maxFileBytes;
  }

  async startUpload(start: UploadStart): Promise<string> {
    if (start.declaredSize !== undefined && start.declaredSize > this.options.maxFileBytes) {
      throw tooLarge(start.declaredSize, this.options.maxFileBytes);
    }
    await mkdir(this.directory, { recursive: true });
    const fileId = this.newFileId();
    const uploadId = randomResourceId(32);
    const writer = new HashingFileWriter(this.bodyPath(fileId));
    this.uploads.set(uploadId, { uploadId, fileId, start, writer, busy: false });
    return uploadId;
  }

  hasUpload(uploadId: string): boolean {
    return this.uploads.has(uploadId);
  }

  /**
   * Appends one chunk of an upload, streaming it to disk. `offset` must equal the bytes received
   * so far (resumable-upload rule); returns the new total.
   */
  async appendChunk(uploadId: string, offset: number, body: Readable): Promise<number> {
    const session = this.session(uploadId);
    if (session.busy) throw badRequest('Another chunk of this upload is still being received.');
    if (offset !== session.writer.sizeBytes) {
      throw badRequest(`Upload offset ${offset} does not match the ${session.writer.sizeBytes} bytes received so far.`);
    }
    const limit = Math.min(session.start.declaredSize ?? Number.POSITIVE_INFINITY, this.options.maxFileBytes);
    session.busy = true;
    let overflow: GoogleApiError | undefined;
    try {
      // On overflow keep draining the body instead of breaking out of the loop: breaking would
      // destroy the request socket and the client would see a reset instead of the 400.
      for await (const chunk of body) {
        const bytes = chunk as Buffer;
        if (overflow) continue;
        const total = session.writer.sizeBytes + bytes.length;
        if (total > limit) {
          overflow =
            total > this.options.maxFileBytes
              ? tooLarge(total, this.options.maxFileBytes)
              : badRequest(`Upload exceeds the declared size of ${session.start.declaredSize} bytes.`);
          await this.dropUpload(session);
          continue;
        }
        await session.writer.write(bytes);
      }
    } finally {
      session.busy = false;
    }
    if (overflow) throw overflow;
    return session.writer.sizeBytes;
  }

  receivedBytes(uploadId: string): number {
    return this.session(uploadId).writer.sizeBytes;
  }

  async cancelUpload(uploadId: string): Promise<void> {
    await this.dropUpload(this.session(uploadId));
  }

  async finalizeUpload(uploadId: string): Promise<StoredFile> {
    const session = this.session(uploadId);
    const declared = session.start.declaredSize;
    if (declared !== undefined && session.writer.sizeBytes !== declared) {
      await this.dropUpload(session);
      throw badRequest(`Upload ended after ${session.writer.sizeBytes} bytes but ${declared} were declared.`);
    }
    this.uploads.delete(uploadId);
    const written = await session.writer.finish();
    return this.register(session.fileId, {
      displayName: session.start.displayName,
      mimeType: session.start.mimeType ?? 'application/octet-stream',
      source: 'UPLOADED',
      ...written,
    });
  }

  /** Opens a GENERATED file named `files/<fileId>` (e.g. `batch-<id>`); invisible until finished. */
  async createGenerated(fileId: string, mimeType: string, displayName?: string): Promise<GeneratedFileWriter> {
    await mkdir(this.directory, { recursive: true });
    const writer = new HashingFileWriter(this.bodyPath(fileId));
    return {
      fileId,
      write: (chunk) => writer.write(chunk),
      finish: async () => this.register(fileId, { displayName, mimeType, source: 'GENERATED', ...(await writer.finish()) }),
      abort: async () => {
        await writer.abort();
        await rm(writer.path, { force: true });
      },
    };
  }

  /** The live file, or undefined when it never existed, was deleted or has expired. */
  get(fileId: string): StoredFile | undefined {
    const file = this.files.get(fileId);
    if (!file) return undefined;
    if (this.options.now() >= file.expireTimeMs) {
      this.files.delete(fileId);
      void rm(file.path, { force: true });
      return undefined;
    }
    return file;
  }

  /** Live files in creation order. */
  list(): StoredFile[] {
    return [...this.files.keys()].map((id) => this.get(id)).filter((file): file is StoredFile => file !== undefined);
  }

  async delete(fileId: string): Promise<boolean> {
    const file = this.get(fileId);
    if (!file) return false;
    this.files.delete(fileId);
    await rm(file.path, { force: true });
    return true;
  }

  /** Streams a file's body from disk. */
  openBody(file: StoredFile): ReadStream {
    return createReadStream(file.path);
  }

  /** Releases open upload descriptors; bodies stay for the owner of dataDir to remove. */
  async close(): Promise<void> {
    const sessions = [...this.uploads.values()];
    this.uploads.clear();
    await Promise.all(sessions.map((session) => session.writer.abort()));
  }

  private register(
    fileId: string,
    fields: { displayName: string | undefined; mimeType: string; source: FileSource; sizeBytes: number; sha256Base64: string },
  ): StoredFile {
    const now = this.options.now();
    const file: StoredFile = Object.freeze({
      id: fileId,
      ...fields,
      createTimeMs: now,
      expireTimeMs: now + this.options.fileTtlMs,
      path: this.bodyPath(fileId),
    });
    this.files.set(fileId, file);
    return file;
  }

  private session(uploadId: string): UploadSession {
    const session = this.uploads.get(uploadId);
    if (!session) throw new GoogleApiError(404, 'NOT_FOUND', 'Upload session not found or already finalized.');
    return session;
  }

  private async dropUpload(session: UploadSession): Promise<void> {
    this.uploads.delete(session.uploadId);
    await session.writer.abort();
    await rm(session.writer.path, { force: true });
  }

  private newFileId(): string {
    let id = randomResourceId(12);
    while (this.files.has(id)) id = randomResourceId(12);
    return id;
  }

  private bodyPath(fileId: string): string {
    return join(this.directory, fileId);
  }
}

function badRequest(message: string): GoogleApiError {
  return new GoogleApiError(400, 'INVALID_ARGUMENT', message);
}

function tooLarge(size: number, max: number): GoogleApiError {
  return badRequest(`File size ${size} bytes exceeds the maximum of ${max} bytes.`);
}

const stores = new WeakMap<EmulatorContext, FileStore>();

/** The one FileStore of a running emulator, shared by the Files and Batch routes. */
export function fileStoreFor(context: EmulatorContext): FileStore {
  let store = stores.get(context);
  if (!store) {
    store = new FileStore({
      dataDir: context.dataDir,
      now: () => context.now(),
      maxFileBytes: context.batch.maxFileBytes,
      fileTtlMs: context.batch.fileTtlMs,
    });
    stores.set(context, store);
  }
  return store;
}
