import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pruneStoredIndexes, storedIndexObject, type StoredIndexPointer } from '../../../src/outputs/stored-index-pointer.js';
import { LocalObjectStore } from '../../../src/storage/local-object-store.js';
import { tempDir, type TempDir } from '../../helpers/temp-dir.js';

let dir: TempDir;
beforeAll(async () => {
  dir = await tempDir('prune-indexes');
});
afterAll(async () => dir?.remove());

const pointer = (runId: string, previous?: string): StoredIndexPointer => ({
  schemaVersion: 1,
  jobName: 'j',
  runId,
  index: storedIndexObject(runId),
  entries: 1,
  writtenAt: '2026-12-04T00:00:00.000Z',
  ...(previous !== undefined ? { previous } : {}),
});

describe('pruneStoredIndexes', () => {
  it('removes the index the replaced pointer had replaced, and nothing a pointer names or that is not an index', async () => {
    const store = new LocalObjectStore({ root: path.join(dir.path, 'store') });
    for (const run of ['r1', 'r2', 'r3']) await store.put(storedIndexObject(run), '{}\n');
    await store.put('catalog.csv', 'sku\n');

    // r3 replaces r2, which had replaced r1: r1's index goes.
    expect(await pruneStoredIndexes(store, pointer('r3', storedIndexObject('r2')), pointer('r2', storedIndexObject('r1')))).toBe(storedIndexObject('r1'));
    expect(await store.head(storedIndexObject('r1'))).toBeUndefined();
    expect(await store.head(storedIndexObject('r2'))).toBeDefined();
    // The first pointer of a job, and a replaced one that had no predecessor: nothing to remove.
    expect(await pruneStoredIndexes(store, pointer('r2'), undefined)).toBeUndefined();
    expect(await pruneStoredIndexes(store, pointer('r3', storedIndexObject('r2')), pointer('r2'))).toBeUndefined();
    // A hand-edited pointer naming something else, or the new index itself, removes nothing.
    expect(await pruneStoredIndexes(store, pointer('r3', storedIndexObject('r2')), pointer('r2', 'catalog.csv'))).toBeUndefined();
    expect(await pruneStoredIndexes(store, pointer('r3', storedIndexObject('r2')), pointer('r2', storedIndexObject('r3')))).toBeUndefined();
    expect(await pruneStoredIndexes(store, pointer('r3', storedIndexObject('r2')), pointer('r2', storedIndexObject('r2')))).toBeUndefined();
    expect(await store.head('catalog.csv')).toBeDefined();
    expect(await store.head(storedIndexObject('r2'))).toBeDefined();
    expect(await store.head(storedIndexObject('r3'))).toBeDefined();
  });
});
