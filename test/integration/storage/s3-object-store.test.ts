import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3ObjectStore } from '../../../src/storage/s3-object-store.js';
import { startS3, type S3Handle } from '../../helpers/start-s3.js';
import { objectStoreContract } from './object-store-contract.js';

let s3: S3Handle;
beforeAll(async () => {
  s3 = await startS3();
});
afterAll(async () => {
  await s3?.stop();
});

describe('S3ObjectStore on s3rver: the ObjectStore contract', () => {
  // A small part size keeps the 20 MiB case multipart (4 parts) while bounding memory.
  objectStoreContract((name) => s3.store(`contract/${name}`, { partSize: 5 * 1024 * 1024 }));
});

describe('S3ObjectStore specifics', () => {
  it('names its location and object URIs as s3://bucket/prefix/key', () => {
    const store = s3.store('/outputs/nightly/');
    expect(store.url).toBe('s3://bunch-test/outputs/nightly');
    expect(store.uriFor('sku-1/hero-ab12.png')).toBe('s3://bunch-test/outputs/nightly/sku-1/hero-ab12.png');
    const bare = s3.store('');
    expect(bare.url).toBe('s3://bunch-test');
    expect(bare.uriFor('a/b.png')).toBe('s3://bunch-test/a/b.png');
  });

  it('keeps objects under its prefix and lists keys relative to it', async () => {
    const store = s3.store('scoped/run-a');
    await store.put('x.txt', 'x');
    expect((await s3.store('scoped').get('run-a/x.txt'))?.toString()).toBe('x');
    const keys: string[] = [];
    for await (const key of store.list('')) keys.push(key);
    expect(keys).toEqual(['x.txt']);
  });

  it('pages through ListObjectsV2 with continuation tokens', async () => {
    // s3rver encrypts continuation tokens with DES; startS3 arranges the OpenSSL legacy provider.
    const store = s3.store('paged', { listPageSize: 2 });
    const written = ['k1.txt', 'k2.txt', 'k3.txt', 'k4.txt', 'k5.txt'];
    for (const key of written) await store.put(key, key);
    const keys: string[] = [];
    for await (const key of store.list('')) keys.push(key);
    expect(keys.sort()).toEqual(written);
  });

  it('maps S3 failures to E_STORAGE without leaking the secret key', async () => {
    const secret = 'definitely-not-the-s3rver-secret-9f8e7d';
    const store = new S3ObjectStore({
      ...s3.settings,
      // s3rver does not verify V4 signatures, but it does reject unknown access key ids.
      credentials: { accessKeyId: 'NOT-AN-S3RVER-ACCOUNT', secretAccessKey: secret },
      bucket: s3.bucket,
      prefix: 'bad-credentials',
    });
    try {
      const failure = await store.head('a.png').then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(failure).toMatchObject({ code: 'E_STORAGE', status: 403, retryable: false });
      expect(String((failure as Error).message)).toContain('s3://bunch-test/bad-credentials/a.png');
      expect(String((failure as Error).message)).not.toContain(secret);
      await expect(store.put('a.png', 'x')).rejects.toMatchObject({ code: 'E_STORAGE', status: 403 });
    } finally {
      await store.close();
    }
  });

  it('reports a missing bucket as E_STORAGE rather than a missing object', async () => {
    const store = new S3ObjectStore({ ...s3.settings, bucket: 'no-such-bucket' });
    try {
      await expect(store.get('a.png')).rejects.toMatchObject({ code: 'E_STORAGE', status: 404 });
    } finally {
      await store.close();
    }
  });
});
