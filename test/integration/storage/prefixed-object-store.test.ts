import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalObjectStore } from '../../../src/storage/local-object-store.js';
import { prefixedObjectStore } from '../../../src/storage/prefixed-object-store.js';
import { countingStore } from '../../helpers/counting-store.js';
import { tempDir, type TempDir } from '../../helpers/temp-dir.js';
import { objectStoreContract } from './object-store-contract.js';

let dir: TempDir;
beforeAll(async () => {
  dir = await tempDir('prefixed-store');
});
afterAll(async () => {
  await dir?.remove();
});

describe('prefixedObjectStore: the ObjectStore contract', () => {
  objectStoreContract((name) => prefixedObjectStore(new LocalObjectStore({ root: path.join(dir.path, name) }), 'runs/r1'));
});

describe('prefixedObjectStore', () => {
  it('maps keys under the prefix and reports them relative to it', async () => {
    const parent = new LocalObjectStore({ root: path.join(dir.path, 'view') });
    const view = prefixedObjectStore(parent, '/runs/r7/');
    await view.put('summary.json', '{}', { contentType: 'application/json' });
    expect((await parent.get('runs/r7/summary.json'))?.toString()).toBe('{}');
    expect(await view.head('summary.json')).toMatchObject({ key: 'summary.json', contentType: 'application/json' });
    expect(view.url).toBe(`${parent.url}/runs/r7`);
    expect(view.uriFor('summary.json')).toBe(parent.uriFor('runs/r7/summary.json'));
    const keys: string[] = [];
    for await (const key of view.list('')) keys.push(key);
    expect(keys).toEqual(['summary.json']);
  });

  it('passes existsSync through under the prefix, and offers none when the store has none', async () => {
    const parent = new LocalObjectStore({ root: path.join(dir.path, 'exists') });
    const view = prefixedObjectStore(parent, 'runs/r8');
    await view.put('summary.json', '{}');
    expect(view.existsSync?.('summary.json')).toBe(true);
    expect(view.existsSync?.('manifest.jsonl')).toBe(false);
    const withoutExists = countingStore(parent, { existsSync: false }).store;
    expect(prefixedObjectStore(withoutExists, 'runs/r8').existsSync).toBeUndefined();
  });

  it('refuses an unsafe prefix with E_UNSAFE_KEY', () => {
    const parent = new LocalObjectStore({ root: path.join(dir.path, 'unsafe') });
    expect(() => prefixedObjectStore(parent, '../other')).toThrow(expect.objectContaining({ code: 'E_UNSAFE_KEY' }));
  });
});
