import { createHash } from 'node:crypto';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LoadedStoredIndex } from '../../../src/outputs/loaded-stored-index.js';
import { PresencePrefetch } from '../../../src/outputs/presence-prefetch.js';
import type { StoredIndexEntry } from '../../../src/outputs/stored-index-entry.js';
import { storedIndexObject, writeStoredIndexPointer, type StoredIndexPointer } from '../../../src/outputs/stored-index-pointer.js';
import { StoredOutputLookup } from '../../../src/outputs/stored-output-lookup.js';
import { markerKey } from '../../../src/plan/item-identity.js';
import type { ItemTarget } from '../../../src/plan/planned-item.js';
import { LocalObjectStore } from '../../../src/storage/local-object-store.js';
import { countingStore } from '../../helpers/counting-store.js';
import { tempDir, type TempDir } from '../../helpers/temp-dir.js';

/**
 * The lookup's second thread on a real local directory: 40 items stored by a first run (marker,
 * image, caption each), then one image, one caption and one marker deleted by hand.
 */
const ITEMS = 40;
const LOST_IMAGE = 7;
const LOST_CAPTION = 12;
const LOST_MARKER = 21;

let dir: TempDir;
let store: LocalObjectStore;
let pointer: StoredIndexPointer;
const targets: ItemTarget[] = [];

beforeAll(async () => {
  dir = await tempDir('presence-prefetch');
  store = new LocalObjectStore({ root: path.join(dir.path, 'out') });
  const lines: string[] = [];
  for (let i = 0; i < ITEMS; i += 1) {
    const itemKey = `SKU-${i}#main`;
    const inputHash = createHash('sha256').update(`input ${i}`).digest('hex');
    const image = { key: `SKU-${i}/main.png`, sha256: 'x', bytes: 3, mimeType: 'image/png', width: 1, height: 1 };
    const caption = { key: `SKU-${i}/main.txt`, sha256: 'y', bytes: 7, text: 'caption' };
    const entry: StoredIndexEntry = { itemKey, inputHash, model: 'm', lane: 'sync', runId: 'first', createdAt: '2026-12-01T00:00:00.000Z', image, caption };
    await store.put(image.key, 'png');
    await store.put(caption.key, 'caption');
    await store.put(markerKey(itemKey, inputHash), JSON.stringify({ schemaVersion: 1, ...entry, image: { ...image, uri: store.uriFor(image.key) }, caption: { ...caption, uri: store.uriFor(caption.key) } }));
    lines.push(JSON.stringify(entry));
    targets.push({
      index: i, itemKey, rowKey: `SKU-${i}`, variant: 'main', rowNumber: i + 2, model: 'm', inputHash,
      expected: { width: 1, height: 1 }, objectKey: `SKU-${i}/main.{{ext}}`, captionKey: caption.key, markerKey: markerKey(itemKey, inputHash),
    });
  }
  await store.put(storedIndexObject('first'), lines.join('\n') + '\n');
  pointer = { schemaVersion: 1, jobName: 'prefetch', runId: 'first', index: storedIndexObject('first'), entries: ITEMS, writtenAt: '2026-12-01T00:00:00.000Z' };
  await writeStoredIndexPointer(store, pointer);
  await store.delete(`SKU-${LOST_IMAGE}/main.png`);
  await store.delete(`SKU-${LOST_CAPTION}/main.txt`);
  await store.delete(targets[LOST_MARKER]!.markerKey);
});
afterAll(async () => dir?.remove());

describe('PresencePrefetch: existence checks on a second thread', () => {
  it('finds every entry whose marker and outputs exist, and none with something missing', async () => {
    const index = (await LoadedStoredIndex.load(store, pointer, { namedOutputs: false }))!;
    const prefetch = PresencePrefetch.start({ indexFile: index.file, root: store.localDirectory, entries: index.entries });
    try {
      await prefetch.finished;
      const present = Array.from({ length: ITEMS }, (_, i) => i).filter((i) => prefetch.present(i));
      expect(present).toEqual(Array.from({ length: ITEMS }, (_, i) => i).filter((i) => ![LOST_IMAGE, LOST_CAPTION, LOST_MARKER].includes(i)));
      expect(prefetch.present(ITEMS)).toBe(false);
    } finally {
      await prefetch.close();
      await index.close();
    }
  });

  it('the lookup trusts what the thread found and checks the rest itself: the three damaged items are generated again', async () => {
    const counted = countingStore(store, { localDirectory: true });
    const lookup = await StoredOutputLookup.open(counted.store, { jobName: 'prefetch', repair: false });
    try {
      await lookup.prefetchFinished();
      const markers = await Promise.all(targets.map((target) => lookup.markerOf(target)));
      expect(markers.map((marker, i) => (marker ? -1 : i)).filter((i) => i >= 0)).toEqual([LOST_IMAGE, LOST_CAPTION, LOST_MARKER]);
      expect(markers[3]).toMatchObject({ runId: 'first', image: { key: 'SKU-3/main.png', uri: store.uriFor('SKU-3/main.png') } });
      expect(lookup.stats).toMatchObject({ fromIndex: ITEMS - 3, prefetched: ITEMS - 3, staleMarkers: 2 });
      // Only the three damaged items were looked at from this thread: their marker, and its outputs.
      expect(counted.calls.exists.length).toBeGreaterThan(0);
      expect(new Set(counted.calls.exists.map((key) => key.replace(/^SKU-(\d+)\/.*/, '$1')))).not.toContain('3');
      expect(counted.calls.get.filter((key) => key.startsWith('_bunch/results/')).sort()).toEqual([targets[LOST_IMAGE]!.markerKey, targets[LOST_CAPTION]!.markerKey].sort());
    } finally {
      await lookup.close();
    }
  });
});
