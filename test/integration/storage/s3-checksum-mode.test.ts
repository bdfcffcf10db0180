import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createS3Client } from '../../../src/storage/create-s3-client.js';
import type { ChecksumMode } from '../../../src/storage/s3-settings.js';
import { startS3, type S3Handle } from '../../helpers/start-s3.js';

let s3: S3Handle;
beforeAll(async () => {
  s3 = await startS3();
});
afterAll(async () => {
  await s3?.stop();
});

/** PutObject with a stream body (the SDK's aws-chunked case), then the stored bytes' sha256. */
async function roundTripStream(mode: ChecksumMode, key: string, body: Buffer): Promise<{ bytes: number; sha256: string }> {
  const client = createS3Client({ ...s3.settings, checksumMode: mode });
  try {
    await client.send(
      new PutObjectCommand({ Bucket: s3.bucket, Key: key, Body: Readable.from([body]), ContentLength: body.length }),
    );
    const answer = await s3.client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: key }));
    const stored = Buffer.from(await answer.Body!.transformToByteArray());
    return { bytes: stored.length, sha256: createHash('sha256').update(stored).digest('hex') };
  } finally {
    client.destroy();
  }
}

describe('checksumMode against s3rver', () => {
  const body = randomBytes(256 * 1024);
  const sha256 = createHash('sha256').update(body).digest('hex');

  it('when_required (the default) stores a streamed body byte for byte', async () => {
    expect(await roundTripStream('when_required', 'checksum/required.bin', body)).toEqual({ bytes: body.length, sha256 });
  });

  it('when_supported sends aws-chunked framing that s3rver stores inside the object', async () => {
    const stored = await roundTripStream('when_supported', 'checksum/supported.bin', body);
    // This is the silent corruption the default avoids: 200 OK, wrong bytes.
    expect(stored.bytes).toBeGreaterThan(body.length);
    expect(stored.sha256).not.toBe(sha256);
  });
});
