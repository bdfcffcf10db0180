import { createHash } from 'node:crypto';
import { GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ManifestItemLine } from '../../../src/manifest/manifest-line.js';
import { productCsv, startBunchStack, type BunchStack } from '../../helpers/bunch-stack.js';
import { startS3, type S3Handle } from '../../helpers/start-s3.js';

describe('sync lane end to end, S3-compatible storage (s3rver)', () => {
  let s3: S3Handle;
  let stack: BunchStack;
  beforeAll(async () => {
    s3 = await startS3();
    stack = await startBunchStack({ concurrency: 16, s3: s3.settings });
    await stack.startWorkers();
  });
  afterAll(async () => {
    await stack?.stop();
    await s3?.stop();
  });

  it('writes images, captions, manifest and summary to the bucket; the manifest matches the objects', async () => {
    const outputUrl = `s3://${s3.bucket}/catalog/nightly`;
    const started = await stack.start(await stack.writeJob({ catalogCsv: productCsv(200), outputUrl }));
    const meta = await stack.waitForRun(started.runId, 120_000);
    expect(meta.status).toBe('succeeded');
    expect(meta.counts.succeeded).toBe(200);

    const store = stack.storeFor(outputUrl);
    const manifest = (await stack.readManifest(store, started.runId)) as ManifestItemLine[];
    expect(manifest).toHaveLength(200);
    expect(new Set(manifest.map((l) => l.index)).size).toBe(200);
    for (const line of manifest.slice(0, 25)) {
      const image = line.image!;
      expect(image.uri).toBe(`s3://${s3.bucket}/catalog/nightly/${image.key}`);
      // Read through a plain S3 client, not our adapter: what a downstream consumer would see.
      const object = await s3.client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: `catalog/nightly/${image.key}` }));
      const bytes = Buffer.from(await object.Body!.transformToByteArray());
      expect(object.ContentType).toBe('image/png');
      expect(bytes.length).toBe(image.bytes);
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(image.sha256);
      const png = PNG.sync.read(bytes);
      expect([png.width, png.height, image.width, image.height]).toEqual([512, 512, 512, 512]);
      const head = await s3.client.send(new HeadObjectCommand({ Bucket: s3.bucket, Key: `catalog/nightly/${image.key}` }));
      expect(head.Metadata).toMatchObject({ inputhash: line.inputHash, model: 'gemini-3.1-flash-image-preview' });
    }
    const summary = await stack.readSummary(store, started.runId);
    expect(summary).toMatchObject({ status: 'succeeded', items: 200, manifest: `s3://${s3.bucket}/catalog/nightly/runs/${started.runId}/manifest.jsonl` });
  });
});
