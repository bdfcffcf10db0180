import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { whileLocked } from '../../../src/runs/while-locked.js';
import { startRedis, type RedisHandle } from '../../helpers/start-redis.js';

let server: RedisHandle;
let redis: Redis;
beforeAll(async () => {
  server = await startRedis();
  redis = new Redis(server.url);
});
afterAll(async () => {
  redis?.disconnect();
  await server?.stop();
});

describe('whileLocked', () => {
  it('runs the work holding the lock and frees it afterwards', async () => {
    let seenDuring: string | null = null;
    const result = await whileLocked(redis, 'lock:a', 60_000, async () => {
      seenDuring = await redis.get('lock:a');
      return 42;
    });
    expect(result).toBe(42);
    expect(seenDuring).toMatch(/^[0-9a-f-]{36}$/);
    expect(await redis.exists('lock:a')).toBe(0);
  });

  it('does not run the work while someone else holds the lock, and leaves their lock alone', async () => {
    await redis.set('lock:b', 'theirs', 'PX', 60_000);
    let ran = false;
    const result = await whileLocked(redis, 'lock:b', 60_000, async () => {
      ran = true;
      return 1;
    });
    expect(result).toBeUndefined();
    expect(ran).toBe(false);
    expect(await redis.get('lock:b')).toBe('theirs');
  });

  it('two at once: one runs, the other is turned away', async () => {
    let running = 0;
    const work = async () => {
      running += 1;
      await new Promise((resolve) => setTimeout(resolve, 50));
      return running;
    };
    const results = await Promise.all([whileLocked(redis, 'lock:c', 60_000, work), whileLocked(redis, 'lock:c', 60_000, work)]);
    expect(results.filter((r) => r === undefined)).toHaveLength(1);
    expect(running).toBe(1);
  });

  it('frees the lock when the work fails, and the failure reaches the caller', async () => {
    await expect(
      whileLocked(redis, 'lock:d', 60_000, async () => {
        throw new Error('work failed');
      }),
    ).rejects.toThrow('work failed');
    expect(await redis.exists('lock:d')).toBe(0);
  });

  it('a lock that expired and was taken over is not freed by the late holder', async () => {
    await whileLocked(redis, 'lock:e', 50, async () => {
      await new Promise((resolve) => setTimeout(resolve, 120));
      await redis.set('lock:e', 'next holder', 'PX', 60_000);
    });
    expect(await redis.get('lock:e')).toBe('next holder');
  });
});

describe('whileLocked and work longer than the lock', () => {
  it('keeps the lock while the work runs past its ttl, and frees it afterwards', async () => {
    let takenByAnother: string | null = 'not tried';
    let ttlLeft = 0;
    await whileLocked(redis, 'lock:g', 150, async () => {
      await new Promise((resolve) => setTimeout(resolve, 600));
      takenByAnother = await redis.set('lock:g', 'another', 'PX', 60_000, 'NX');
      ttlLeft = await redis.pttl('lock:g');
    });
    expect(takenByAnother).toBeNull();
    expect(ttlLeft).toBeGreaterThan(0);
    expect(await redis.exists('lock:g')).toBe(0);
  });

  it('tells the work when the lock was lost to another holder, and leaves theirs alone', async () => {
    const outcome = await whileLocked(redis, 'lock:h', 150, async (lost) => {
      await redis.set('lock:h', 'next holder', 'PX', 60_000);
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('the work was never told')), 2_000);
        lost.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
      });
      return lost.aborted;
    });
    expect(outcome).toBe(true);
    expect(await redis.get('lock:h')).toBe('next holder');
  });
});

describe('whileLocked when freeing the lock fails', () => {
  it("answers the work's own result; the lock is left to expire", async () => {
    const result = await whileLocked(redis, 'lock:f', 60_000, async () => {
      // The key no longer holds a string: the release script's GET fails with WRONGTYPE.
      await redis.del('lock:f');
      await redis.hset('lock:f', 'x', '1');
      return 'done';
    });
    expect(result).toBe('done');
    expect(await redis.type('lock:f')).toBe('hash');
  });
});
