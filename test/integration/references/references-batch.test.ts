import { PutObjectCommand } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ManifestItemLine } from '../../../src/manifest/manifest-line.js';
import { startBunchStack, type BunchStack } from '../../helpers/bunch-stack.js';
import { meanColor, solidImage, startImageServer, type ImageServer } from '../../helpers/image-server.js';
import { startS3, type S3Handle } from '../../helpers/start-s3.js';
import { batchJob, finishBatchRun, paidCalls } from '../batch/batch-harness.js';

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** Files the emulator holds, by display name: what bunch uploaded through the Files API. */
async function uploadedFiles(stack: BunchStack): Promise<string[]> {
  const response = await fetch(`${stack.emulator.url}/v1beta/files?pageSize=100`, { headers: { 'x-goog-api-key': stack.emulator.apiKey ?? '' } });
  const body = (await response.json()) as { files?: { displayName?: string }[] };
  return (body.files ?? []).map((file) => file.displayName ?? '');
}

describe('reference images on the batch lane (S3 output, s3:// and https references, hero → variants in waves)', () => {
  let s3: S3Handle;
  let stack: BunchStack;
  let photos: ImageServer;
  beforeAll(async () => {
    s3 = await startS3();
    stack = await startBunchStack({ s3: s3.settings, emulator: { profile: { batch: { pendingMs: 20, runningMs: 80 } } } });
    await stack.startWorkers();
    photos = await startImageServer();
  });
  afterAll(async () => {
    await photos?.close();
    await stack?.stop();
    await s3?.stop();
  });

  it('uploads each distinct reference once, sends fileData, and makes the variants in the next wave', async () => {
    const shared = await solidImage({ r: 210, g: 30, b: 30 });
    photos.serve('/shared.png', shared);
    const own = await solidImage({ r: 30, g: 30, b: 210 }, { format: 'jpeg' });
    await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: 'photos/P3.jpg', Body: own, ContentType: 'image/jpeg' }));
    const csv = ['sku,title,photo', ...['P1', 'P2'].map((sku) => `${sku},Item ${sku},${photos.namedUrl}/shared.png`), `P3,Item P3,s3://${s3.bucket}/photos/P3.jpg`, 'P4,Item P4,'].join('\n');
    const outputUrl = `s3://${s3.bucket}/out/batch-refs`;
    const jobFile = await stack.writeJob({
      catalogCsv: csv,
      outputUrl,
      job: {
        ...batchJob({ maxRequestsPerBatch: 3 }),
        variants: [{ name: 'hero' }, { name: 'story', from: 'hero', aspectRatio: '9:16', prompt: 'The same scene, vertical' }],
        references: { sources: ['photo'], allowHosts: ['localhost'] },
      },
    });
    const started = await stack.start(jobFile);
    expect(started).toMatchObject({ items: 8, rejected: 0, lane: 'batch', batched: 4, shards: 2 });
    const { meta, manifest, shards } = await finishBatchRun(stack, started.runId, outputUrl, 8);
    expect(meta.counts).toEqual({ succeeded: 8, failed: 0, skipped: 0, cancelled: 0 });
    expect(paidCalls(stack)).toEqual({ http: 0, batch: 8 });
    // Heroes in the first wave, their variants in shards cut after each hero shard was collected.
    expect(shards.map((shard) => [shard.shard, shard.items, shard.phase]).sort()).toEqual([
      ['s0001', 3, 'done'],
      ['s0001-d', 3, 'done'],
      ['s0002', 1, 'done'],
      ['s0002-d', 1, 'done'],
    ]);
    for (const line of manifest) expect(line).toMatchObject({ status: 'succeeded', lane: 'batch' });

    // Two product photos and four hero images, each uploaded exactly once.
    const uploads = (await uploadedFiles(stack)).filter((name) => name.startsWith('bunch-ref-'));
    expect(uploads).toHaveLength(6);
    expect(new Set(uploads).size).toBe(6);

    const byItem = new Map(manifest.map((line) => [line.itemKey, line as ManifestItemLine]));
    expect(byItem.get('P1#hero')?.references?.[0]).toMatchObject({ sha256: sha256(shared), source: `${photos.namedUrl}/shared.png` });
    expect(byItem.get('P3#hero')?.references?.[0]).toMatchObject({ mimeType: 'image/jpeg', source: `s3://${s3.bucket}/photos/P3.jpg` });
    expect(byItem.get('P4#hero')?.references).toBeUndefined();
    expect(byItem.get('P3#story')?.references?.map((reference) => reference.source)).toEqual(['variant:hero', `s3://${s3.bucket}/photos/P3.jpg`]);
    expect(photos.hits('/shared.png')).toBe(1);

    // The emulator read the uploaded files: the blue product stays blue through hero and story.
    const store = stack.storeFor(outputUrl);
    const story = await meanColor((await store.get(byItem.get('P3#story')!.image!.key))!);
    expect(story.b).toBeGreaterThan(story.r + 40);
  });
});
