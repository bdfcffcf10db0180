import { connect } from 'node:net';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { startS3 } from '../../helpers/start-s3.js';

// Tests the shared test helper itself. It runs s3rver in-process when node has the OpenSSL legacy
// provider and in a child process otherwise; both must behave the same from the outside.

function connectionRefused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'));
  });
}

describe('startS3', () => {
  it('serves its bucket on 127.0.0.1 with path-style settings, and stop() closes it', async () => {
    const s3 = await startS3();
    const port = Number(new URL(s3.endpoint).port);
    expect(s3.endpoint).toBe(`http://127.0.0.1:${port}`);
    expect(s3.settings).toMatchObject({ endpoint: s3.endpoint, forcePathStyle: true, checksumMode: 'when_required' });

    await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: 'hello.txt', Body: 'hi' }));
    const answer = await s3.client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: 'hello.txt' }));
    expect(await answer.Body?.transformToString()).toBe('hi');
    expect((await s3.store('p').head('nothing'))).toBeUndefined();

    await s3.stop();
    expect(await connectionRefused(port)).toBe(true);
    await s3.stop(); // idempotent
  });
});
