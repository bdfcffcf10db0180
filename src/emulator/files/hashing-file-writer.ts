import { createHash, type Hash } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { untilClosed } from '../../storage/until-closed.js';

export interface WrittenFile {
  sizeBytes: number;
  /** base64 SHA-256 of the bytes written, as the Files API reports `sha256Hash`. */
  sha256Base64: string;
}

/**
 * Appends bytes to one file on disk while counting and hashing them, honouring the write
 * stream's backpressure so a multi-gigabyte upload or batch result never sits in memory.
 */
export class HashingFileWriter {
  private readonly stream: WriteStream;
  private readonly hash: Hash = createHash('sha256');
  private size = 0;
  private failure: Error | undefined;

  constructor(readonly path: string) {
    this.stream = createWriteStream(path, { flags: 'w' });
    this.stream.on('error', (error) => {
      this.failure = error;
    });
  }

  get sizeBytes(): number {
    return this.size;
  }

  async write(chunk: Buffer | string): Promise<void> {
    if (this.failure) throw this.failure;
    // Strings go to the hash and the stream as they are: no extra copy of a 20 MB result line.
    this.hash.update(chunk);
    this.size += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
    if (!this.stream.write(chunk)) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          this.stream.off('drain', done);
          this.stream.off('close', done);
          resolve();
        };
        this.stream.on('drain', done);
        this.stream.on('close', done);
      });
      if (this.failure) throw this.failure;
    }
  }

  async finish(): Promise<WrittenFile> {
    if (this.failure) throw this.failure;
    await new Promise<void>((resolve, reject) => {
      this.stream.end((error?: Error | null) => (error ? reject(error) : resolve()));
    });
    return { sizeBytes: this.size, sha256Base64: this.hash.digest('base64') };
  }

  /** Stops writing and releases the descriptor; the partial file is left for the caller to remove. */
  async abort(): Promise<void> {
    await untilClosed(this.stream);
  }
}
