import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { LocalObjectStore } from '../../../src/storage/local-object-store.js';
import { openObjectStore } from '../../../src/storage/open-object-store.js';
import { S3ObjectStore } from '../../../src/storage/s3-object-store.js';

// Opening a store does no I/O, so these run without any service or directory.
const settings = { endpoint: 'http://127.0.0.1:9', region: 'us-east-1', forcePathStyle: true };

describe('openObjectStore', () => {
  it('opens s3://bucket/prefix as an S3 store with that bucket and prefix', async () => {
    const store = openObjectStore('s3://catalog-images/nightly/2026/', { s3: settings });
    expect(store).toBeInstanceOf(S3ObjectStore);
    expect((store as S3ObjectStore).config).toMatchObject({ bucket: 'catalog-images', prefix: 'nightly/2026' });
    expect(store.url).toBe('s3://catalog-images/nightly/2026');
    expect(store.uriFor('sku/a.png')).toBe('s3://catalog-images/nightly/2026/sku/a.png');
    await store.close();
  });

  it('opens s3://bucket without a prefix', async () => {
    const store = openObjectStore('s3://catalog-images', { s3: settings });
    expect(store.url).toBe('s3://catalog-images');
    expect(store.uriFor('a.png')).toBe('s3://catalog-images/a.png');
    await store.close();
  });

  it('resolves relative file:// directories against baseDir', () => {
    const baseDir = path.resolve('/srv/bunch');
    for (const url of ['file://./out', 'file://out', 'file://out/']) {
      const store = openObjectStore(url, { baseDir });
      expect(store).toBeInstanceOf(LocalObjectStore);
      expect((store as LocalObjectStore).root, url).toBe(path.join(baseDir, 'out'));
    }
    expect((openObjectStore('file://../shared/out', { baseDir }) as LocalObjectStore).root).toBe(
      path.resolve(baseDir, '../shared/out'),
    );
  });

  it('resolves relative file:// directories against the current directory by default', () => {
    expect((openObjectStore('file://./out') as LocalObjectStore).root).toBe(path.resolve(process.cwd(), 'out'));
  });

  it('opens absolute file:/// URLs, decoding percent-escapes, and round-trips its own url', () => {
    const store = openObjectStore('file:///var/lib/bunch%20out', { baseDir: '/elsewhere' }) as LocalObjectStore;
    expect(store.root).toBe('/var/lib/bunch out');
    expect(store.url).toBe(pathToFileURL('/var/lib/bunch out').href);
    expect((openObjectStore(store.url) as LocalObjectStore).root).toBe('/var/lib/bunch out');
    expect(store.uriFor('sku/a.png')).toBe('file:///var/lib/bunch%20out/sku/a.png');
  });

  it('rejects unknown schemes, missing buckets and unsafe prefixes with E_CONFIG', () => {
    for (const url of ['gs://bucket/x', './out', 'http://host/x', 's3://', 's3:///prefix', 's3://b/../x', 's3://b/a//c', 'file://']) {
      expect(() => openObjectStore(url), url).toThrow(expect.objectContaining({ code: 'E_CONFIG' }));
    }
  });
});
