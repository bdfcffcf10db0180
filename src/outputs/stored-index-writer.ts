import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import type { ItemRecord } from '../runs/item-record.js';
import type { ObjectStore } from '../storage/object-store.js';
import { untilClosed } from '../storage/until-closed.js';
import { storedIndexEntryOf } from './stored-index-entry.js';

/**
 * Entries go to the temp file in strings of about this many characters: a write per entry was a
 * thread-pool round trip each (and a wait for the stream to drain every few dozen), ~40 µs an
 * entry, half of a 400-item run's finalize.
 */
const WRITE_BATCH_CHARS = 64 * 1024;

/**
 * Collects a run's stored-output index while the finalizer streams its records, in a local temp
 * file (a million entries are a few hundred MB: never in memory), and uploads it in one put.
 *
 * The index only saves the next run requests, so a temp file that cannot be made or written (a
 * full or missing temp directory) never fails the finalize: the writer stops, `upload` puts
 * nothing and says why, and the finalizer removes the job's pointer (update-stored-index-pointer.ts).
 */
export class StoredIndexWriter {
  private dir: string | undefined;
  private out: WriteStream | undefined;
  private opening: Promise<WriteStream | undefined> | undefined;
  /** Entries not yet handed to the temp file. */
  private pending = '';
  /** Why the temp copy could not be written, once it could not. */
  failure: Error | undefined;
  entries = 0;

  constructor(
    private readonly store: ObjectStore,
    private readonly runId: string,
  ) {}

  async add(record: ItemRecord): Promise<void> {
    const entry = storedIndexEntryOf(record, this.runId);
    if (!entry) return;
    const out = await this.open();
    if (!out || this.failure) return;
    this.entries += 1;
    this.pending += JSON.stringify(entry) + '\n';
    if (this.pending.length >= WRITE_BATCH_CHARS) await this.flush(out);
  }

  /**
   * Uploads the index to `key` (also when empty: an empty index is the truth for a run that stored
   * nothing). False, with nothing put, when the temp copy failed (`failure` says why).
   */
  async upload(key: string): Promise<boolean> {
    const out = await this.open();
    if (!out || this.failure) return false;
    await this.flush(out);
    out.end();
    try {
      await finished(out);
    } catch (error) {
      this.failure ??= error as Error;
      return false;
    }
    await this.store.put(key, createReadStream(out.path as string), { contentType: 'application/x-ndjson' });
    return true;
  }

  async discard(): Promise<void> {
    // Closed first: an open still queued in the thread pool must not land in a removed folder.
    if (this.out) await untilClosed(this.out);
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
  }

  private async flush(out: WriteStream): Promise<void> {
    const chunk = this.pending;
    this.pending = '';
    if (chunk !== '' && !out.write(chunk)) await this.drained(out);
  }

  private async drained(out: WriteStream): Promise<void> {
    try {
      await once(out, 'drain');
    } catch (error) {
      this.failure ??= error as Error;
    }
  }

  private open(): Promise<WriteStream | undefined> {
    this.opening ??= (async () => {
      try {
        this.dir = await mkdtemp(path.join(tmpdir(), 'bunch-index-'));
      } catch (error) {
        this.failure = error as Error;
        return undefined;
      }
      const out = createWriteStream(path.join(this.dir, 'stored-index.jsonl'));
      // A write failing between two records (while the finalizer reads the next ones) is heard
      // here: unheard, it would end the worker's process.
      out.on('error', (error) => {
        this.failure ??= error;
      });
      this.out = out;
      return out;
    })();
    return this.opening;
  }
}
