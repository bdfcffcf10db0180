import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { holdClaim } from '../../../src/lanes/sync/held-claim.js';
import { silentLogger } from '../../../src/logging/create-logger.js';
import { RunStore } from '../../../src/runs/run-store.js';
import { startRedis, type RedisHandle } from '../../helpers/start-redis.js';

let redis: RedisHandle;
let client: Redis;
let runs: RunStore;
beforeAll(async () => {
  redis = await startRedis();
  client = new Redis(redis.url, { lazyConnect: false });
  runs = new RunStore(client, `claims${process.pid}`);
});
afterAll(async () => {
  client.disconnect();
  await redis.stop();
});

const identity = { markerUri: 's3://bucket/out/.bunch/SKU-1.json', inputHash: 'abc' };

describe('output claims in Redis', () => {
  it('one holder at a time; others learn who holds it and for how long', async () => {
    expect(await runs.claims.take(identity, 'run-a/1/1@w1', 10_000)).toEqual({ taken: true });
    const second = await runs.claims.take(identity, 'run-b/1/1@w2', 10_000);
    expect(second.taken).toBe(false);
    expect(second).toMatchObject({ holder: 'run-a/1/1@w1' });
    expect(second.taken === false && second.ttlMs > 9000 && second.ttlMs <= 10_000).toBe(true);
    // Another input for the same location is another output: its own claim.
    expect(await runs.claims.take({ ...identity, inputHash: 'def' }, 'run-b/1/1@w2', 10_000)).toEqual({ taken: true });
  });

  it('only the holder renews or releases; an expired claim can be taken by the next worker', async () => {
    const id = { ...identity, markerUri: 'file:///out/.bunch/SKU-2.json' };
    expect(await runs.claims.take(id, 'a', 300)).toEqual({ taken: true });
    expect(await runs.claims.renew(id, 'b', 10_000)).toBe(false);
    await runs.claims.release(id, 'b');
    expect((await runs.claims.take(id, 'b', 300)).taken).toBe(false);
    expect(await runs.claims.renew(id, 'a', 600)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 800));
    // The holder froze past its TTL: the claim is free, and the old holder cannot take it back by renewing.
    expect(await runs.claims.take(id, 'b', 10_000)).toEqual({ taken: true });
    expect(await runs.claims.renew(id, 'a', 10_000)).toBe(false);
    await runs.claims.release(id, 'a');
    expect(await runs.claims.take(id, 'c', 10_000)).toMatchObject({ taken: false, holder: 'b' });
    await runs.claims.release(id, 'b');
    expect(await runs.claims.take(id, 'c', 10_000)).toEqual({ taken: true });
  });

  it('a held claim released twice (while recording, then on the way out) frees it once, with one call', async () => {
    const id = { ...identity, markerUri: 'file:///out/.bunch/SKU-3.json' };
    expect(await runs.claims.take(id, 'holder', 10_000)).toEqual({ taken: true });
    let releases = 0;
    const counted = Object.create(runs.claims) as typeof runs.claims;
    counted.release = async (identity, token) => {
      releases += 1;
      return runs.claims.release(identity, token);
    };
    const held = holdClaim(counted, id, 'holder', { ttlMs: 10_000, maxHoldMs: 20_000, logger: silentLogger() });
    const first = held.release();
    expect(held.release()).toBe(first);
    await first;
    await held.release();
    expect(releases).toBe(1);
    expect(await runs.claims.take(id, 'next', 10_000)).toEqual({ taken: true });
  });

  it('the key names no run: two runs writing the same output meet on one key', () => {
    const key = runs.claims.key(identity);
    expect(key).toMatch(new RegExp(`^claims${process.pid}:claim:[0-9a-f]{64}$`));
    expect(runs.claims.key({ ...identity })).toBe(key);
  });
});
