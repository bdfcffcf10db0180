import { closeSync, openSync, readSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DigestTable } from '../digests/digest-table.js';
import { SortedDigests } from '../digests/sorted-digests.js';
import type { ObjectStore } from '../storage/object-store.js';
import { untilClosed } from '../storage/until-closed.js';
import { entryOutputKeys, type StoredIndexEntry } from './stored-index-entry.js';
import type { StoredIndexPointer } from './stored-index-pointer.js';

/** Above this many top-level folders of outputs, one listing of the whole location is cheaper. */
export const MAX_LISTED_ROOTS = 4;

/** Bytes of the index read at once (a few hundred entries). */
const READ_BLOCK = 256 * 1024;

/**
 * A job's stored-output index, ready for look-ups by item key with little memory: the lines wait
 * in a local temp file, and memory holds only a DigestTable item key → entry number, each entry's
 * offset and length in the file, and the outputs the index names as sorted 64-bit digests (about
 * 70 MB for a million items with an image and a caption each).
 */
export class LoadedStoredIndex {
  private constructor(
    private readonly dir: string,
    /** The temp copy: one entry per line, in entry-number order. */
    readonly file: string,
    private readonly fd: number,
    private readonly byItemKey: DigestTable,
    private readonly offsets: Float64Array,
    private readonly lengths: Uint32Array,
    /** Image and caption keys the entries name (markers are checked against the marker listing). */
    readonly namedOutputs: SortedDigests,
    /** Where the named outputs live: the prefixes to list to check them (more than MAX_LISTED_ROOTS: too many to list one by one). */
    readonly outputRoots: ReadonlySet<string>,
    readonly entries: number,
  ) {}

  /** Streams the index into a temp file (one GET); undefined when the index object is gone. */
  static async load(store: ObjectStore, pointer: StoredIndexPointer, options: LoadOptions = {}): Promise<LoadedStoredIndex | undefined> {
    const tempRoot = options.tempRoot ?? tmpdir();
    const withOutputs = options.namedOutputs ?? true;
    const stream = await store.getStream(pointer.index);
    if (!stream) return undefined;
    const dir = await mkdtemp(path.join(tempRoot, 'bunch-stored-index-'));
    const file = path.join(dir, 'index.jsonl');
    const out = createWriteStream(file);
    // A write that fails while the load waits on the source (a full temp disk, the index arriving
    // slowly from S3) is kept and thrown at the next chunk: unheard, it would crash the process.
    let writeFailure: Error | undefined;
    out.on('error', (error) => {
      writeFailure ??= error;
    });
    try {
      const byItemKey = new DigestTable();
      const namedOutputs = new SortedDigests();
      const outputRoots = new Set<string>();
      let offsets = new Float64Array(1024);
      let lengths = new Uint32Array(1024);
      let entries = 0;
      const addLine = (buffer: Buffer, start: number, end: number, offset: number) => {
        if (entries === offsets.length) {
          offsets = grow(offsets, Float64Array);
          lengths = grow(lengths, Uint32Array);
        }
        offsets[entries] = offset;
        lengths[entries] = end - start;
        // The first entry of a key wins (an index never holds two; a hand-edited one might).
        if (withOutputs) {
          const entry = JSON.parse(buffer.toString('utf8', start, end)) as StoredIndexEntry;
          byItemKey.getOrAdd(entry.itemKey, entries);
          for (const key of entryOutputKeys(entry)) {
            namedOutputs.add(key);
            // Past the limit the location is listed whole: no need to remember a million folders.
            if (outputRoots.size <= MAX_LISTED_ROOTS) outputRoots.add(listingRootOf(key));
          }
        } else {
          byItemKey.getOrAdd(itemKeyBytesOfLine(buffer, start, end), entries);
        }
        entries += 1;
      };
      // The object is copied to the temp file as it comes; lines are found in the same bytes
      // (no strings made for them: only the item key is hashed, straight from the bytes).
      let carry: Buffer | undefined;
      let carryOffset = 0;
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        if (writeFailure) throw writeFailure;
        if (!out.write(chunk)) await once(out, 'drain');
        const buffer = carry ? Buffer.concat([carry, chunk]) : chunk;
        let start = 0;
        for (let newline = buffer.indexOf(NEWLINE, start); newline !== -1; newline = buffer.indexOf(NEWLINE, start)) {
          const end = buffer[newline - 1] === CARRIAGE_RETURN && newline > start ? newline - 1 : newline;
          if (end > start) addLine(buffer, start, end, carryOffset + start);
          start = newline + 1;
        }
        carryOffset += start;
        carry = start < buffer.length ? Buffer.from(buffer.subarray(start)) : undefined;
      }
      if (carry) {
        const end = carry[carry.length - 1] === CARRIAGE_RETURN ? carry.length - 1 : carry.length;
        if (end > 0) addLine(carry, 0, end, carryOffset);
      }
      out.end();
      await finished(out);
      return new LoadedStoredIndex(dir, file, openSync(file, 'r'), byItemKey, offsets, lengths, namedOutputs.seal(), outputRoots, entries);
    } catch (error) {
      // Closed before the folder goes: the descriptor is not leaked, and an open still queued in
      // the thread pool cannot land in (or fail on) a removed folder.
      await untilClosed(out);
      await rm(dir, { recursive: true, force: true });
      throw error;
    }
  }

  /** The block of the temp file read last, and where it starts. */
  private block = Buffer.alloc(0);
  private blockStart = 0;

  /**
   * The entry of an item key, or undefined. Synchronous reads from a file just written (so in the
   * page cache): cheaper than a million trips through the thread pool. A read takes a block of
   * READ_BLOCK bytes, and the index is in the order the last run recorded its items — catalog order,
   * for the most part — so one read serves the next few hundred rows.
   */
  entryFor(itemKey: string): StoredIndexEntry | undefined {
    const number = this.numberOf(itemKey);
    return number === undefined ? undefined : this.entryAt(number, itemKey);
  }

  /** The entry number of an item key (its line in the index), or undefined. */
  numberOf(itemKey: string): number | undefined {
    return this.byItemKey.get(itemKey);
  }

  /** Entry `number`, if it is the item key's (a digest collision would name another). */
  entryAt(number: number, itemKey: string): StoredIndexEntry | undefined {
    const length = this.lengths[number] as number;
    const offset = this.offsets[number] as number;
    if (offset < this.blockStart || offset + length > this.blockStart + this.block.length) {
      const size = Math.max(length, READ_BLOCK);
      const buffer = Buffer.allocUnsafe(size);
      const read = readSync(this.fd, buffer, 0, size, offset);
      this.block = buffer.subarray(0, read);
      this.blockStart = offset;
    }
    const at = offset - this.blockStart;
    let entry: StoredIndexEntry;
    try {
      entry = JSON.parse(this.block.toString('utf8', at, at + length)) as StoredIndexEntry;
    } catch {
      // Only possible for a line loaded without a full parse (itemKeyOfLine): a damaged entry
      // vouches for nothing, and the item is checked through its marker.
      return undefined;
    }
    return entry.itemKey === itemKey ? entry : undefined;
  }

  async close(): Promise<void> {
    closeSync(this.fd);
    await rm(this.dir, { recursive: true, force: true });
  }
}

export interface LoadOptions {
  /** Where the temp copy goes (default the OS temp directory). */
  tempRoot?: string;
  /**
   * Collect the outputs the entries name (`namedOutputs`, `outputRoots`), to check them against a
   * listing (default true). Without, a line is not parsed at load: only its item key is read.
   */
  namedOutputs?: boolean;
}

/** How every index line starts: the writer puts the item key first (storedIndexEntryOf). */
const LINE_START = '{"itemKey":"';
const KEY_END = '","inputHash":"';
const LINE_START_BYTES = Buffer.from(LINE_START);
const KEY_END_BYTES = Buffer.from(KEY_END);
const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;
const BACKSLASH = 0x5c;
const CLOSING_BRACE = 0x7d;

/**
 * itemKeyOfLine on a line's bytes: the key's UTF-8 bytes themselves when it holds no escape
 * (hashing them gives the string's digest), else the string, as itemKeyOfLine reads it.
 */
function itemKeyBytesOfLine(buffer: Buffer, start: number, end: number): Buffer | string {
  const keyStart = start + LINE_START_BYTES.length;
  const plain =
    end - start > LINE_START_BYTES.length &&
    buffer[end - 1] === CLOSING_BRACE &&
    buffer.compare(LINE_START_BYTES, 0, LINE_START_BYTES.length, start, keyStart) === 0;
  // Searches stay inside the line (a view of it), never running on into the rest of the chunk.
  const keyLength = plain ? buffer.subarray(keyStart, end).indexOf(KEY_END_BYTES) : -1;
  if (keyLength !== -1) {
    const key = buffer.subarray(keyStart, keyStart + keyLength);
    if (key.indexOf(BACKSLASH) === -1) return key;
  }
  return itemKeyOfLine(buffer.toString('utf8', start, end));
}

/**
 * The item key of an index line without parsing the rest (a full JSON.parse per line was most of
 * the load). Inside a JSON string a quote is always escaped, so the first `","inputHash":"` ends
 * the key. Any other line shape is parsed in full; a line that is not JSON fails the load.
 */
export function itemKeyOfLine(line: string): string {
  const end = line.startsWith(LINE_START) && line.endsWith('}') ? line.indexOf(KEY_END, LINE_START.length) : -1;
  if (end === -1) return (JSON.parse(line) as StoredIndexEntry).itemKey;
  const raw = line.slice(LINE_START.length, end);
  return raw.includes('\\') ? (JSON.parse(`"${raw}"`) as string) : raw;
}

/**
 * The prefix listed to find an output: its first folder (`images/` for `images/SKU-1/hero.png`),
 * or the whole store for a key at the top level. One streamed listing per distinct root.
 */
export function listingRootOf(key: string): string {
  const slash = key.indexOf('/');
  return slash === -1 ? '' : key.slice(0, slash + 1);
}

function grow<T extends Float64Array | Uint32Array>(array: T, Type: { new (length: number): T }): T {
  const grown = new Type(array.length * 2);
  grown.set(array);
  return grown;
}
