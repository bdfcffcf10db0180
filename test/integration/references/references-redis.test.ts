import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBunchStack, type BunchStack } from '../../helpers/bunch-stack.js';
import { solidImage, startImageServer, type ImageServer } from '../../helpers/image-server.js';

/** Invariant 3 with reference images: Redis holds hashes of the photos, never their bytes. */
describe('reference images never reach Redis', () => {
  let stack: BunchStack;
  let photos: ImageServer;
  beforeAll(async () => {
    // No workers: the queued jobs stay in Redis to be looked at.
    stack = await startBunchStack();
    photos = await startImageServer();
  });
  afterAll(async () => {
    await photos?.close();
    await stack?.stop();
  });

  it('queued jobs carry placeholders and hashes; no value in Redis holds the image or its base64', async () => {
    const photo = await solidImage({ r: 12, g: 34, b: 56 }, { width: 300, height: 200 });
    photos.serve('/p.png', photo);
    const csv = ['sku,title,photo', ...Array.from({ length: 5 }, (_, i) => `S${i},Item ${i},${photos.namedUrl}/p.png`)].join('\n');
    const jobFile = await stack.writeJob({
      catalogCsv: csv,
      job: {
        references: { sources: ['photo'], allowHosts: ['localhost'] },
        variants: [{ name: 'hero' }, { name: 'story', from: 'hero', aspectRatio: '9:16' }],
      },
    });
    const started = await stack.start(jobFile);
    expect(started).toMatchObject({ items: 10, enqueued: 5 });

    const jobs = await stack.plane.queues.generate.getWaiting();
    expect(jobs).toHaveLength(5);
    for (const job of jobs) {
      const parts = (job.data.request as { contents: { parts: object[] }[] }).contents[0]?.parts;
      expect(parts?.[1]).toEqual({ fileData: { mimeType: 'image/png', fileUri: expect.stringMatching(/^bunch-ref:[0-9a-f]{64}$/) } });
      expect(job.data.dependants).toHaveLength(1);
    }

    const redis = stack.plane.redis;
    const needles = [photo.toString('base64').slice(0, 64), photo.toString('latin1').slice(0, 64)];
    let scanned = 0;
    for (const key of await redis.keys(`${stack.prefix}:*`)) {
      const type = await redis.type(key);
      let values: string[] = [];
      if (type === 'string') values = [(await redis.getBuffer(key))?.toString('latin1') ?? ''];
      else if (type === 'hash') values = Object.values(await redis.hgetall(key));
      else if (type === 'list') values = await redis.lrange(key, '0', '-1');
      else if (type === 'zset') values = await redis.zrange(key, '0', '-1');
      else if (type === 'set') values = await redis.smembers(key);
      for (const value of values) {
        scanned += 1;
        for (const needle of needles) expect(value.includes(needle)).toBe(false);
        expect(value).not.toContain('inlineData');
      }
    }
    expect(scanned).toBeGreaterThan(10);
  });
});
