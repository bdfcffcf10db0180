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

export interface ListOptions {
  /**
   * Sub-prefixes not to walk (e.g. `runs/`): a local directory prunes them, S3 jumps past them with
   * StartAfter. Keys under them may still appear; callers ignore what they do not look for.
   */
  skip?: readonly string[];
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
  /**
   * Keys under a prefix, in no promised order. Never the only ground for a decision that costs
   * money or loses outputs (s3rver's listing can miss keys): planning uses it to skip requests,
   * and a key missing from a listing only sends an item down the slower, exact path.
   */
  list(prefix: string, options?: ListOptions): AsyncIterable<string>;
  /**
   * Whether an object exists at `key`, answered synchronously. Offered only where that costs one
   * local system call (a local directory), never over a network: planning then checks the few
   * objects an index entry names instead of listing the whole output location (a folder per row
   * under the default key template). Stores without it are checked by listing.
   */
  existsSync?(key: string): boolean;
  /**
   * The directory the objects are files in (a local directory store), so that existence checks
   * can run on another thread (stored-output-lookup.ts). Absent for stores over a network.
   */
  readonly localDirectory?: string;
  /** The URI a manifest records for a key, e.g. `s3://bucket/prefix/key` or `file:///abs/dir/key`. */
  uriFor(key: string): string;
  close(): Promise<void>;
}
