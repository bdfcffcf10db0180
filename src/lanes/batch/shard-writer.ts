import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { createHash, type Hash } from 'node:crypto';
import { finished } from 'node:stream/promises';
import { BunchError } from '../../errors/bunch-error.js';
import type { ItemTarget } from '../../plan/planned-item.js';
import { runObjectKeys } from '../../runs/run-keys.js';
import type { ObjectStore } from '../../storage/object-store.js';

/** The Files API takes up to 2 GB per file; stay clear of it. */
export const MAX_SHARD_BYTES = 1_900_000_000;

export interface ShardWriterOptions {
  runId: string;
  store: ObjectStore;
  /** A private temp directory for the files being written. */
  dir: string;
  maxRequests: number;
  maxBytes?: number;
  /** Shard names in cut order (`s0001`, `s0002`, ... or `s0003-r1` for a resubmission). */
  shardName(seq: number): string;
  /** Called once per shard after both its files are in the object store. */
  /** `digest`: hex sha256 over the shard's item keys and inputHashes (and turns after the first), in order. */
  /** `dependants`: drafts of variants made from the shard's items, released after collection. */
  onShard(shard: string, items: number, digest: string, dependants: number): Promise<void>;
}

/**
 * Writes a run's batch requests into JSONL shards while items stream in: one line per item,
 * `{"key": itemKey, "request": <the exact sync request>}`, and beside it a targets file (one
 * ItemTarget per line, same order). A shard is cut at `maxRequests` lines or before `maxBytes`.
 * Both files go to the run's object store (`runs/<id>/batches/<shard>/`), so whichever worker
 * submits or collects the shard needs nothing from the planning process.
 */
export class ShardWriter {
  private seq = 0;
  private current:
    | { name: string; requests: WriteStream; targets: WriteStream; lines: number; bytes: number; digest: Hash; dependants: string[]; dependantCount: number }
    | undefined;
  private readonly maxBytes: number;
  /** A write stream's error (disk full...) is kept here and thrown by the next add/close. */
  private failure: Error | undefined;
  shards = 0;
  items = 0;

  constructor(private readonly options: ShardWriterOptions) {
    this.maxBytes = options.maxBytes ?? MAX_SHARD_BYTES;
  }

  /**
   * `dependants` (drafts of `from:` variants of this item) are kept beside the shard
   * (`dependants.jsonl`, one line per hero) and released once the shard is collected.
   */
  async add(target: ItemTarget, request: unknown, dependants?: readonly { target: ItemTarget; request: unknown }[]): Promise<void> {
    this.throwIfFailed();
    const line = JSON.stringify({ key: target.itemKey, request }) + '\n';
    const bytes = Buffer.byteLength(line);
    if (this.current && (this.current.lines >= this.options.maxRequests || this.current.bytes + bytes > this.maxBytes)) {
      await this.cut();
    }
    const shard = this.current ?? this.open();
    shard.lines += 1;
    shard.bytes += bytes;
    // The turn is part of the content: a later turn of a multi-turn edit is not the batch of turn 1.
    shard.digest.update(target.turn && target.turn > 1 ? `${target.itemKey}\n${target.inputHash}\n${target.turn}\n` : `${target.itemKey}\n${target.inputHash}\n`);
    this.items += 1;
    await this.failingAsStorage(async () => {
      await write(shard.requests, line);
      await write(shard.targets, JSON.stringify(target) + '\n');
    });
    if (dependants && dependants.length > 0) {
      shard.dependants.push(JSON.stringify({ hero: target, dependants }));
      shard.dependantCount += dependants.length;
    }
  }

  /** Cuts the last shard. */
  async close(): Promise<void> {
    this.throwIfFailed();
    if (this.current) await this.cut();
  }

  /** Planning broke off: drop the shard being written (its items were never dispatched). */
  abort(): void {
    this.current?.requests.destroy();
    this.current?.targets.destroy();
    this.current = undefined;
  }

  /** Runs a step on the temp files; a failure of either file is E_STORAGE (the first one kept). */
  private async failingAsStorage(step: () => Promise<void>): Promise<void> {
    try {
      await step();
    } catch (error) {
      this.failure ??= error instanceof Error ? error : new Error(String(error));
      this.throwIfFailed();
    }
  }

  private throwIfFailed(): void {
    if (this.failure) {
      throw new BunchError('E_STORAGE', `cannot write a batch shard file: ${this.failure.message}`, { cause: this.failure });
    }
  }

  private open() {
    this.seq += 1;
    const name = this.options.shardName(this.seq);
    const file = (kind: string) =>
      createWriteStream(path.join(this.options.dir, `${name}.${kind}.jsonl`)).on('error', (error: Error) => {
        this.failure ??= error;
      });
    this.current = {
      name,
      requests: file('requests'),
      targets: file('targets'),
      lines: 0,
      bytes: 0,
      digest: createHash('sha256'),
      dependants: [],
      dependantCount: 0,
    };
    return this.current;
  }

  private async cut(): Promise<void> {
    const shard = this.current;
    if (!shard) return;
    this.current = undefined;
    await this.failingAsStorage(async () => void (await Promise.all([finish(shard.requests), finish(shard.targets)])));
    const keys = runObjectKeys(this.options.runId);
    const requestsPath = shard.requests.path as string;
    const targetsPath = shard.targets.path as string;
    await this.options.store.put(keys.batchRequests(shard.name), createReadStream(requestsPath), { contentType: 'application/x-ndjson' });
    await this.options.store.put(keys.batchTargets(shard.name), createReadStream(targetsPath), { contentType: 'application/x-ndjson' });
    if (shard.dependants.length > 0) {
      await this.options.store.put(keys.batchDependants(shard.name), shard.dependants.join('\n') + '\n', { contentType: 'application/x-ndjson' });
    }
    await Promise.all([rm(requestsPath, { force: true }), rm(targetsPath, { force: true })]);
    this.shards += 1;
    await this.options.onShard(shard.name, shard.lines, shard.digest.digest('hex'), shard.dependantCount);
  }
}

/**
 * Writes a line, waiting for 'drain' when the stream's buffer is full. A stream that failed (its
 * file could not be opened or written) never drains: its error, or its closing, ends the wait.
 */
async function write(stream: WriteStream, text: string): Promise<void> {
  if (stream.destroyed) throw stream.errored ?? new Error(`${String(stream.path)} was closed`);
  if (stream.write(text)) return;
  await new Promise<void>((resolve, reject) => {
    const settle = (error?: Error) => {
      stream.off('drain', drained).off('error', settle).off('close', closed);
      if (error) reject(error);
      else resolve();
    };
    const drained = () => settle();
    const closed = () => settle(stream.errored ?? new Error(`${String(stream.path)} was closed before it drained`));
    stream.on('drain', drained).on('error', settle).on('close', closed);
  });
}

/** Ends the stream and waits until its file is written, or rejects with its error (also one that came earlier). */
async function finish(stream: WriteStream): Promise<void> {
  stream.end();
  await finished(stream);
}
