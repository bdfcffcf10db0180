import { mkdir, readdir, readlink } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LoadedStoredIndex } from '../../../src/outputs/loaded-stored-index.js';
import { PresencePrefetch } from '../../../src/outputs/presence-prefetch.js';
import type { StoredIndexEntry } from '../../../src/outputs/stored-index-entry.js';
import type { StoredIndexPointer } from '../../../src/outputs/stored-index-pointer.js';
import { markerKey } from '../../../src/plan/item-identity.js';
import { LocalObjectStore } from '../../../src/storage/local-object-store.js';
import type { ObjectStore } from '../../../src/storage/object-store.js';
import { tempDir, type TempDir } from '../../helpers/temp-dir.js';

let dir: TempDir;
beforeAll(async () => {
  dir = await tempDir('loaded-index');
});
afterAll(async () => dir?.remove());

const KEYS = ['SKU-1#main', 'say "hi"#main', 'ends with \\#main', 'Größe 42 ✓#main', 'tab\there#main', 'SKU-6#main'];
const entry = (itemKey: string, i: number): StoredIndexEntry => ({
  itemKey,
  inputHash: String(i).repeat(64).slice(0, 64),
  model: 'm',
  lane: 'sync',
  runId: 'first',
  createdAt: '2026-12-01T00:00:00.000Z',
  image: { key: `img/${i}.png`, sha256: 'x', bytes: 3, mimeType: 'image/png', width: 1, height: 1 },
});

/** The index object served in chunks of `size` bytes, whatever the line boundaries. */
function servedInChunks(local: LocalObjectStore, body: string, size: number): ObjectStore {
  const bytes = Buffer.from(body);
  return Object.assign(Object.create(local) as ObjectStore, {
    getStream: async () => Readable.from(Array.from({ length: Math.ceil(bytes.length / size) }, (_, i) => bytes.subarray(i * size, (i + 1) * size))),
  });
}

/** This process's open descriptors on files under `root` (Linux: /proc/self/fd). */
async function descriptorsUnder(root: string): Promise<string[]> {
  const targets = await Promise.all((await readdir('/proc/self/fd')).map((fd) => readlink(`/proc/self/fd/${fd}`).catch(() => '')));
  return targets.filter((target) => target.startsWith(root));
}

const pointer: StoredIndexPointer = { schemaVersion: 1, jobName: 'j', runId: 'first', index: 'runs/first/stored-index.jsonl', entries: KEYS.length, writtenAt: '2026-12-01T00:00:00.000Z' };

describe('LoadedStoredIndex.load', () => {
  it('finds every entry by item key whatever the chunking, escapes, CRLF line ends, blank lines and a last line without a newline', async () => {
    const lines = KEYS.map((key, i) => JSON.stringify(entry(key, i)));
    // CRLF on some lines, blank lines between, no newline after the last.
    const body = `${lines[0]}\r\n\n${lines[1]}\n${lines[2]}\r\n\r\n${lines[3]}\n${lines[4]}\n\n${lines[5]}`;
    const local = new LocalObjectStore({ root: path.join(dir.path, 'chunks') });
    for (const size of [1, 7, 64, 1 << 16]) {
      for (const namedOutputs of [false, true]) {
        const index = (await LoadedStoredIndex.load(servedInChunks(local, body, size), pointer, { namedOutputs }))!;
        try {
          expect(index.entries).toBe(KEYS.length);
          for (const [i, key] of KEYS.entries()) {
            expect(index.numberOf(key)).toBe(i);
            expect(index.entryFor(key)).toEqual(entry(key, i));
          }
          expect(index.entryFor('SKU-404#main')).toBeUndefined();
        } finally {
          await index.close();
        }
      }
    }
  });

  it('the second thread numbers entries as the load does, blank lines and CRLF included', async () => {
    const local = new LocalObjectStore({ root: path.join(dir.path, 'numbering') });
    const lines = KEYS.map((key, i) => JSON.stringify(entry(key, i)));
    // Only the odd entries are stored whole.
    for (const [i, key] of KEYS.entries()) {
      if (i % 2 === 0) continue;
      await local.put(`img/${i}.png`, 'png');
      await local.put(markerKey(key, entry(key, i).inputHash), '{}');
    }
    const index = (await LoadedStoredIndex.load(servedInChunks(local, `\r\n${lines.join('\r\n\n')}\r\n`, 5), pointer, { namedOutputs: false }))!;
    const prefetch = PresencePrefetch.start({ indexFile: index.file, root: local.localDirectory, entries: index.entries });
    try {
      await prefetch.finished;
      expect(KEYS.map((key) => prefetch.present(index.numberOf(key)!))).toEqual([false, true, false, true, false, true]);
    } finally {
      await prefetch.close();
      await index.close();
    }
  });

  it('an index that is not JSON lines fails the load (and is then ignored by planning)', async () => {
    const local = new LocalObjectStore({ root: path.join(dir.path, 'broken') });
    await expect(LoadedStoredIndex.load(servedInChunks(local, 'not json\n', 4), pointer, { namedOutputs: false })).rejects.toThrow(SyntaxError);
    await expect(LoadedStoredIndex.load(servedInChunks(local, '{"itemKey":"SKU-1#main","inputHash":"ab', 4), pointer, { namedOutputs: true })).rejects.toThrow(SyntaxError);
  });

  it('a failed load closes its temp file and removes its folder, whether the lines or the object stream fail', async () => {
    const local = new LocalObjectStore({ root: path.join(dir.path, 'failing') });
    const tempRoot = path.join(dir.path, 'failing-temp');
    await mkdir(tempRoot, { recursive: true });
    const line = `${JSON.stringify(entry('SKU-1#main', 1))}\n`;
    const cutOff: ObjectStore = Object.assign(Object.create(local) as ObjectStore, {
      getStream: async () =>
        new Readable({
          read() {
            this.push(Buffer.from(line));
            this.destroy(Object.assign(new Error('connection reset'), { code: 'ECONNRESET' }));
          },
        }),
    });
    await expect(LoadedStoredIndex.load(servedInChunks(local, `${line}not json\n`, 4), pointer, { tempRoot })).rejects.toThrow(SyntaxError);
    await expect(LoadedStoredIndex.load(cutOff, pointer, { tempRoot })).rejects.toThrow('connection reset');
    expect(await readdir(tempRoot)).toEqual([]);
    expect(await descriptorsUnder(tempRoot)).toEqual([]);
  });
});
