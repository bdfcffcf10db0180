/**
 * The object-store port. Two adapters speak it: S3-compatible storage and a local directory.
 * Keys are relative, `/`-separated, already made safe at planning (`assertSafeObjectKey`: no
 * `..`, no leading `/`).
 */
import type { Readable } from 'node:stream';

export interface PutOptions {
  contentType?: string;
  /** Small string metadata (x-amz-meta-* on S3, a sidecar on local disk). Never secrets. */
  metadata?: Record<string, string>;
}

export interface ObjectInfo {
  key: string;
  size: number;
  contentType?: string;
  metadata: Record<string, string>;
}

export interface ObjectStore {
  /** Human-readable location of this store, e.g. `s3://bucket/prefix` or `file:///abs/dir`. No credentials. */
  readonly url: string;
  put(key: string, body: Buffer | string | Readable, options?: PutOptions): Promise<void>;
  get(key: string): Promise<Buffer | undefined>;
  getStream(key: string): Promise<Readable | undefined>;
  head(key: string): Promise<ObjectInfo | undefined>;
  delete(key: string): Promise<void>;
  /** Keys under a prefix. Not used for correctness (s3rver listing is unreliable); only for tooling. */
  list(prefix: string): AsyncIterable<string>;
  /** The URI a manifest records for a key, e.g. `s3://bucket/prefix/key` or `file:///abs/dir/key`. */
  uriFor(key: string): string;
  close(): Promise<void>;
}
