import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchJobSource } from '../../../src/schedules/fetch-job-source.js';
import { loadJobFile } from '../../../src/spec/load-job-file.js';
import { openObjectStore } from '../../../src/storage/open-object-store.js';
import { startS3, type S3Handle } from '../../helpers/start-s3.js';

let s3: S3Handle;
beforeAll(async () => {
  s3 = await startS3();
});
afterAll(async () => s3?.stop());

describe('a scheduled job file in S3', () => {
  it('is read at fire time with the catalog and system file it names by relative path', async () => {
    const store = openObjectStore(`s3://${s3.bucket}/jobs`, { s3: s3.settings });
    await store.put('nightly.yaml', [
      'name: nightly',
      'catalog: { path: catalogs/products.csv, key: sku }',
      'model: gemini-3.1-flash-image-preview',
      'system: { file: brand.md }',
      'prompt: Photo of {{title}}',
      `output: { url: "s3://${s3.bucket}/out" }`,
    ].join('\n'));
    await store.put('catalogs/products.csv', 'sku,title\nA1,Lamp\n');
    await store.put('brand.md', 'Soft daylight, white background.');
    await store.close();

    const fetched = await fetchJobSource(`s3://${s3.bucket}/jobs/nightly.yaml`, (url) => openObjectStore(url, { s3: s3.settings }));
    const job = await loadJobFile(fetched.file);
    expect(job.name).toBe('nightly');
    expect(job.system).toBe('Soft daylight, white background.');
    await fetched.cleanup();
    expect(existsSync(fetched.file)).toBe(false);

    await expect(fetchJobSource(`s3://${s3.bucket}/jobs/missing.yaml`, (url) => openObjectStore(url, { s3: s3.settings }))).rejects.toMatchObject({
      code: 'E_JOB_FILE',
      message: `s3://${s3.bucket}/jobs/missing.yaml does not exist`,
    });
  });
});
