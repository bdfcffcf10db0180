import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPrivateRedis, type RedisHandle } from '../../../src/local/start-private-redis.js';
import { openRedisProbe, type RedisProbe } from '../../../src/redis/redis-probe.js';
import { waitFor } from '../../helpers/spawn-worker.js';

/** What a stopping worker asks before it drains (close-fleet.ts): a quick, truthful "does Redis answer?". */
describe('openRedisProbe', () => {
  let redis: RedisHandle;
  let probe: RedisProbe;
  beforeAll(async () => {
    redis = await startPrivateRedis();
    probe = openRedisProbe(redis.url);
  });
  afterAll(async () => {
    probe?.close();
    await redis?.stop();
  });

  it('says yes while Redis answers, no at once when it is gone, and yes again within a moment of its return', async () => {
    expect(await probe.answers(2000)).toBe(true);

    const restarting = redis.crashAndRestart!(3000);
    const askedAt = Date.now();
    expect(await probe.answers(2000)).toBe(false);
    // A refused connection is a "no" without waiting out the timeout.
    expect(Date.now() - askedAt).toBeLessThan(1500);

    await restarting;
    const backAt = Date.now();
    await waitFor(() => probe.answers(2000), 5000, 'the probe to see Redis back');
    // Not after a reconnect backoff of up to 5 s, as the working connections may take.
    expect(Date.now() - backAt).toBeLessThan(1500);
  });
});
