import { describe, expect, it } from 'vitest';
import { resolveS3ObjectStoreOptions } from '../../../src/storage/s3-object-store.js';

describe('resolveS3ObjectStoreOptions', () => {
  it('fills defaults, trims the prefix and freezes the result', () => {
    const resolved = resolveS3ObjectStoreOptions({ bucket: 'b', prefix: '/out/x/' });
    expect(resolved).toEqual({
      bucket: 'b',
      prefix: 'out/x',
      partSize: 8 * 1024 * 1024,
      multipartThreshold: 8 * 1024 * 1024,
      queueSize: 4,
      listPageSize: 1000,
    });
    expect(Object.isFrozen(resolved)).toBe(true);
  });

  it('rejects bad buckets and parts below the S3 minimum with E_CONFIG', () => {
    expect(() => resolveS3ObjectStoreOptions({ bucket: '' })).toThrow(expect.objectContaining({ code: 'E_CONFIG' }));
    expect(() => resolveS3ObjectStoreOptions({ bucket: 'a/b' })).toThrow(expect.objectContaining({ code: 'E_CONFIG' }));
    expect(() => resolveS3ObjectStoreOptions({ bucket: 'b', partSize: 1024 })).toThrow(
      expect.objectContaining({ code: 'E_CONFIG' }),
    );
  });
});
