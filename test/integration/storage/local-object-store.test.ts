import { readdir, readFile, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalObjectStore } from '../../../src/storage/local-object-store.js';
import { tempDir, type TempDir } from '../../helpers/temp-dir.js';
import { objectStoreContract } from './object-store-contract.js';

let dir: TempDir;
beforeAll(async () => {
  dir = await tempDir('local-store');
});
afterAll(async () => {
  await dir?.remove();
});

describe('LocalObjectStore: the ObjectStore contract', () => {
  objectStoreContract((name) => new LocalObjectStore({ root: path.join(dir.path, 'contract', name) }));
});

/** Every file under `root`, relative, sorted — including hidden temp files and sidecars. */
async function filesUnder(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(root, path.join(entry.parentPath, entry.name)))
    .sort();
}

describe('LocalObjectStore specifics', () => {
  it('names its location and object URIs as file URLs of absolute paths', () => {
    const store = new LocalObjectStore({ root: 'out dir', baseDir: dir.path });
    expect(store.url).toBe(pathToFileURL(path.join(dir.path, 'out dir')).href);
    expect(store.url).toMatch(/^file:\/\/\/.*\/out%20dir$/);
    expect(store.uriFor('sku-1/hero.png')).toBe(`${store.url}/sku-1/hero.png`);
  });

  it('gives the URI pathToFileURL gives for every key, plain or not, and refuses unsafe ones', () => {
    for (const root of [path.join(dir.path, 'uri'), path.join(dir.path, 'with space', 'ünï #%')]) {
      const store = new LocalObjectStore({ root });
      for (const key of ['SKU-1/main.png', 'a.b/c_d-e.txt', '_bunch/results/ab/x.json', 'with space/é.png', 'hash#and?query.png', '100%.png', 'a/b.c.d']) {
        expect(store.uriFor(key)).toBe(pathToFileURL(path.join(root, key)).href);
      }
      expect(() => store.uriFor('../up.png')).toThrow(expect.objectContaining({ code: 'E_UNSAFE_KEY' }));
      expect(() => store.uriFor('.bunch-meta/x.json')).toThrow(expect.objectContaining({ code: 'E_UNSAFE_KEY' }));
    }
  });

  it('creates nothing until the first write', async () => {
    const root = path.join(dir.path, 'lazy');
    const store = new LocalObjectStore({ root });
    expect(await store.head('a.png')).toBeUndefined();
    await expect(readdir(root)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('keeps the object at its key and metadata in a .bunch-meta sidecar', async () => {
    const root = path.join(dir.path, 'layout');
    const store = new LocalObjectStore({ root });
    await store.put('sku-1/hero.png', Buffer.from('png'), { contentType: 'image/png', metadata: { Sha256: 'ff' } });
    expect(await filesUnder(root)).toEqual([path.join('.bunch-meta', 'sku-1', 'hero.png.json'), path.join('sku-1', 'hero.png')]);
    expect(await readFile(path.join(root, 'sku-1', 'hero.png'), 'utf8')).toBe('png');
    expect(JSON.parse(await readFile(path.join(root, '.bunch-meta', 'sku-1', 'hero.png.json'), 'utf8'))).toEqual({
      contentType: 'image/png',
      metadata: { sha256: 'ff' },
    });
    await store.delete('sku-1/hero.png');
    expect(await filesUnder(root)).toEqual([]);
  });

  it('never shows a partial file: a failing stream leaves the previous version and no temp file', async () => {
    const root = path.join(dir.path, 'atomic');
    const store = new LocalObjectStore({ root });
    await store.put('item.bin', 'old version', { metadata: { v: 'old' } });
    let release!: () => void;
    const halfway = new Promise<void>((resolve) => {
      release = resolve;
    });
    let seenMidWrite: string[] = [];
    async function* body(): AsyncGenerator<Buffer> {
      yield Buffer.alloc(100_000, 1);
      release();
      // While the write is in flight, the key still holds the old bytes.
      seenMidWrite = [(await store.get('item.bin'))?.toString() ?? 'missing'];
      throw new Error('upstream image stream broke');
    }
    const write = store.put('item.bin', Readable.from(body()), { metadata: { v: 'new' } });
    await halfway;
    await expect(write).rejects.toMatchObject({ code: 'E_STORAGE' });
    expect(seenMidWrite).toEqual(['old version']);
    expect((await store.get('item.bin'))?.toString()).toBe('old version');
    expect((await store.head('item.bin'))?.metadata).toEqual({ v: 'old' });
    expect(await filesUnder(root)).toEqual([path.join('.bunch-meta', 'item.bin.json'), 'item.bin']);
  });

  it('writes object and sidecar at once; when the sidecar cannot be written the old version stays and no temp file is left', async () => {
    const root = path.join(dir.path, 'sidecar-fails');
    const store = new LocalObjectStore({ root });
    await store.put('sku/hero.png', 'old', { metadata: { v: 'old' } });
    // A file where the sidecar's folder must be: the sidecar's temp file cannot be created.
    await store.put('blocked.png', 'x');
    await mkdir(path.join(root, 'blocked'), { recursive: true });
    await writeFile(path.join(root, '.bunch-meta', 'blocked'), 'not a folder');
    await expect(store.put('blocked/hero.png', 'new', { metadata: { v: 'new' } })).rejects.toMatchObject({ code: 'E_STORAGE' });
    expect(await store.get('blocked/hero.png')).toBeUndefined();
    expect((await filesUnder(root)).filter((file) => file.endsWith('.bunch-tmp'))).toEqual([]);
    expect((await store.get('sku/hero.png'))?.toString()).toBe('old');
  });

  it('reserves the sidecar tree and temp-file names', async () => {
    const store = new LocalObjectStore({ root: path.join(dir.path, 'reserved') });
    await expect(store.put('.bunch-meta/x.json', '{}')).rejects.toMatchObject({ code: 'E_UNSAFE_KEY' });
    await expect(store.put('a/.x.bunch-tmp', 'x')).rejects.toMatchObject({ code: 'E_UNSAFE_KEY' });
  });

  it('serves objects another tool wrote without a sidecar, with empty metadata', async () => {
    const root = path.join(dir.path, 'foreign');
    await mkdir(path.join(root, 'imported'), { recursive: true });
    await writeFile(path.join(root, 'imported', 'photo.jpg'), 'jpeg bytes');
    const store = new LocalObjectStore({ root });
    expect(await store.head('imported/photo.jpg')).toEqual({ key: 'imported/photo.jpg', size: 10, metadata: {} });
    const keys: string[] = [];
    for await (const key of store.list('imp')) keys.push(key);
    expect(keys).toEqual(['imported/photo.jpg']);
  });

  it('does not follow a key through a file as if it were a directory', async () => {
    const store = new LocalObjectStore({ root: path.join(dir.path, 'file-as-dir') });
    await store.put('a', 'file');
    expect(await store.head('a/b')).toBeUndefined();
    await expect(store.put('a/b', 'x')).rejects.toMatchObject({ code: 'E_STORAGE' });
  });

  it('existsSync answers at once: a stored object yes; a missing key, a folder, a key through a file or a temp file no', async () => {
    const root = path.join(dir.path, 'exists');
    const store = new LocalObjectStore({ root });
    await store.put('sku-1/hero.png', 'png');
    await store.put('flat', 'file');
    expect(store.existsSync('sku-1/hero.png')).toBe(true);
    expect(store.existsSync('sku-1/other.png')).toBe(false);
    expect(store.existsSync('sku-2/hero.png')).toBe(false);
    expect(store.existsSync('sku-1')).toBe(false);
    expect(store.existsSync('flat/below')).toBe(false);
    await writeFile(path.join(root, 'sku-1', '.hero.png.abc.bunch-tmp'), 'half');
    expect(() => store.existsSync('sku-1/.hero.png.abc.bunch-tmp')).toThrow(expect.objectContaining({ code: 'E_UNSAFE_KEY' }));
    expect(() => store.existsSync('../escape')).toThrow(expect.objectContaining({ code: 'E_UNSAFE_KEY' }));
    await store.delete('sku-1/hero.png');
    expect(store.existsSync('sku-1/hero.png')).toBe(false);
  });
});
