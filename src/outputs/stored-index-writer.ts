import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ItemRecord } from '../runs/item-record.js';
import type { ObjectStore } from '../storage/object-store.js';
import { storedIndexEntryOf } from './stored-index-entry.js';

/**
 * Collects a run's stored-output index while the finalizer streams its records, in a local temp
 * file (a million entries are a few hundred MB: never in memory), and uploads it in one put.
 */
export class StoredIndexWriter {
  private dir: string | undefined;
  private out: WriteStream | undefined;
  entries = 0;

  constructor(
    private readonly store: ObjectStore,
    private readonly runId: string,
  ) {}

  async add(record: ItemRecord): Promise<void> {
    const entry = storedIndexEntryOf(record, this.runId);
    if (!entry) return;
    const out = await this.open();
    this.entries += 1;
    if (!out.write(JSON.stringify(entry) + '\n')) await once(out, 'drain');
  }

  /** Uploads the index to `key` (also when empty: an empty index is the truth for a run that stored nothing). */
  async upload(key: string): Promise<void> {
    const out = await this.open();
    out.end();
    await once(out, 'finish');
    await this.store.put(key, createReadStream(out.path as string), { contentType: 'application/x-ndjson' });
  }

  async discard(): Promise<void> {
    this.out?.destroy();
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
  }

  private async open(): Promise<WriteStream> {
    if (this.out) return this.out;
    this.dir = await mkdtemp(path.join(tmpdir(), 'bunch-index-'));
    this.out = createWriteStream(path.join(this.dir, 'stored-index.jsonl'));
    return this.out;
  }
}
