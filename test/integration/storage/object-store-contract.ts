import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { expect, it } from 'vitest';
import type { ObjectStore } from '../../../src/storage/object-store.js';

/**
 * The behaviour every ObjectStore adapter must share. `storeFor(name)` returns a fresh, empty
 * store (its own prefix or directory) per test.
 */
export function objectStoreContract(storeFor: (name: string) => ObjectStore): void {
  it('round-trips bytes, content type and metadata through put/head/get/delete', async () => {
    const store = storeFor('round-trip');
    const body = randomBytes(1234);
    await store.put('sku-1/hero.png', body, { contentType: 'image/png', metadata: { InputHash: 'abc123', lane: 'sync' } });

    expect(await store.head('sku-1/hero.png')).toEqual({
      key: 'sku-1/hero.png',
      size: 1234,
      contentType: 'image/png',
      metadata: { inputhash: 'abc123', lane: 'sync' },
    });
    expect((await store.get('sku-1/hero.png'))?.equals(body)).toBe(true);

    await store.delete('sku-1/hero.png');
    expect(await store.head('sku-1/hero.png')).toBeUndefined();
    expect(await store.get('sku-1/hero.png')).toBeUndefined();
    expect(await store.getStream('sku-1/hero.png')).toBeUndefined();
  });

  it('stores strings as UTF-8 and defaults the content type', async () => {
    const store = storeFor('string');
    await store.put('caption.txt', 'Käse & crème ✓');
    const info = await store.head('caption.txt');
    expect(info?.contentType).toBe('application/octet-stream');
    expect(info?.metadata).toEqual({});
    expect(info?.size).toBe(Buffer.byteLength('Käse & crème ✓'));
    expect((await store.get('caption.txt'))?.toString('utf8')).toBe('Käse & crème ✓');
  });

  it('overwrites an existing key with the new bytes and metadata', async () => {
    const store = storeFor('overwrite');
    await store.put('a.txt', 'first version', { metadata: { v: '1' } });
    await store.put('a.txt', 'second', { metadata: { v: '2' } });
    expect((await store.get('a.txt'))?.toString()).toBe('second');
    expect((await store.head('a.txt'))?.metadata).toEqual({ v: '2' });
  });

  it('answers undefined for a missing key and treats delete of a missing key as done', async () => {
    const store = storeFor('missing');
    expect(await store.head('nope/never.png')).toBeUndefined();
    expect(await store.get('nope/never.png')).toBeUndefined();
    expect(await store.getStream('nope/never.png')).toBeUndefined();
    await expect(store.delete('nope/never.png')).resolves.toBeUndefined();
  });

  it('writes a 20 MiB stream intact (multipart on S3) and streams it back with the same sha256', async () => {
    const store = storeFor('large');
    const chunks = Array.from({ length: 20 }, (_, index) => Buffer.alloc(1024 * 1024, index + 1));
    chunks[7] = randomBytes(1024 * 1024);
    const expected = createHash('sha256');
    for (const chunk of chunks) expected.update(chunk);

    await store.put('big/blob.bin', Readable.from(chunks), { contentType: 'application/octet-stream' });

    expect((await store.head('big/blob.bin'))?.size).toBe(20 * 1024 * 1024);
    const stream = await store.getStream('big/blob.bin');
    expect(stream).toBeDefined();
    const actual = createHash('sha256');
    let bytes = 0;
    for await (const chunk of stream as Readable) {
      actual.update(chunk as Buffer);
      bytes += (chunk as Buffer).length;
    }
    expect(bytes).toBe(20 * 1024 * 1024);
    expect(actual.digest('hex')).toBe(expected.digest('hex'));
  });

  it('leaves no object behind when the body stream fails', async () => {
    const store = storeFor('failing-stream');
    async function* failing(): AsyncGenerator<Buffer> {
      yield Buffer.alloc(64 * 1024, 1);
      throw new Error('catalog image source broke');
    }
    await expect(store.put('partial.bin', Readable.from(failing()))).rejects.toMatchObject({ code: 'E_STORAGE' });
    expect(await store.head('partial.bin')).toBeUndefined();
    const keys: string[] = [];
    for await (const key of store.list('')) keys.push(key);
    expect(keys).toEqual([]);
  });

  it('refuses keys that could escape or alias with E_UNSAFE_KEY', async () => {
    const store = storeFor('unsafe');
    for (const key of ['../escape.png', 'a/../../b', '/etc/passwd', 'a//b', './a', 'a/./b', '', 'a\\b', 'a\u0000b', 'a\nb']) {
      await expect(store.put(key, 'x'), key).rejects.toMatchObject({ code: 'E_UNSAFE_KEY' });
      await expect(store.head(key), key).rejects.toMatchObject({ code: 'E_UNSAFE_KEY' });
      await expect(store.get(key), key).rejects.toMatchObject({ code: 'E_UNSAFE_KEY' });
      await expect(store.delete(key), key).rejects.toMatchObject({ code: 'E_UNSAFE_KEY' });
      expect(() => store.uriFor(key), key).toThrow(expect.objectContaining({ code: 'E_UNSAFE_KEY' }));
    }
  });

  it('lists keys under a string prefix', async () => {
    const store = storeFor('list');
    for (const key of ['runs/r1/manifest.jsonl', 'runs/r1/summary.json', 'runs/r10/summary.json', 'sku/a.png']) {
      await store.put(key, key);
    }
    const under = async (prefix: string): Promise<string[]> => {
      const keys: string[] = [];
      for await (const key of store.list(prefix)) keys.push(key);
      return keys.sort();
    };
    expect(await under('runs/r1/')).toEqual(['runs/r1/manifest.jsonl', 'runs/r1/summary.json']);
    expect(await under('runs/r1')).toEqual(['runs/r1/manifest.jsonl', 'runs/r1/summary.json', 'runs/r10/summary.json']);
    expect(await under('')).toEqual([
      'runs/r1/manifest.jsonl',
      'runs/r1/summary.json',
      'runs/r10/summary.json',
      'sku/a.png',
    ]);
    expect(await under('nothing/')).toEqual([]);
    const skipping = async (prefix: string, skip: string[]): Promise<string[]> => {
      const keys: string[] = [];
      for await (const key of store.list(prefix, { skip })) keys.push(key);
      return keys.sort();
    };
    // Skipped folders are not walked (local) or jumped over (S3); keys after them still come.
    expect(await skipping('', ['runs/'])).toEqual(['sku/a.png']);
    expect(await skipping('', ['runs/r1/'])).toEqual(['runs/r10/summary.json', 'sku/a.png']);
    expect(await skipping('', ['runs/', 'sku/'])).toEqual([]);
  });
}
