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

  it('nor do the workers put it there, failed jobs included', async () => {
    const photo = await solidImage({ r: 99, g: 88, b: 77 }, { width: 320, height: 200 });
    photos.serve('/w.png', photo);
    const csv = ['sku,title,photo', ...Array.from({ length: 4 }, (_, i) => `W${i},Item ${i} [[emu:500]],${photos.namedUrl}/w.png`)].join('\n');
    const jobFile = await stack.writeJob({
      catalogCsv: csv,
      job: { references: { sources: ['photo'], allowHosts: ['localhost'] }, sync: { attempts: 2, backoff: { initialMs: 10, maxMs: 20, jitter: 0 } } },
    });
    const fleet = await stack.startWorkers();
    const started = await stack.start(jobFile);
    const meta = await stack.waitForRun(started.runId);
    expect(meta.counts).toEqual({ succeeded: 0, failed: 4, skipped: 0, cancelled: 0 });
    // Each item sent the photo inline twice and failed: its jobs, records and errors are in Redis now.
    expect(stack.emulator.requestLog.count({ route: 'generateContent', status: 500 })).toBe(8);
    await fleet.close();
    const needles = [photo.toString('base64').slice(0, 64), photo.toString('latin1').slice(0, 64)];
    let scanned = 0;
    for (const key of await stack.plane.redis.keys(`${stack.prefix}:*`)) {
      for (const value of await valuesOf(stack, key)) {
        scanned += 1;
        for (const needle of needles) expect(value.includes(needle)).toBe(false);
        expect(value).not.toContain('inlineData');
      }
    }
    expect(scanned).toBeGreaterThan(10);
  });
});

async function valuesOf(stack: BunchStack, key: string): Promise<string[]> {
  const redis = stack.plane.redis;
  switch (await redis.type(key)) {
    case 'string':
      return [(await redis.getBuffer(key))?.toString('latin1') ?? ''];
    case 'hash':
      return Object.values(await redis.hgetall(key));
    case 'list':
      return redis.lrange(key, '0', '-1');
    case 'zset':
      return redis.zrange(key, '0', '-1');
    case 'set':
      return redis.smembers(key);
    case 'stream':
      return (await redis.xrange(key, '-', '+')).map((entry) => JSON.stringify(entry));
    default:
      return [];
  }
}
