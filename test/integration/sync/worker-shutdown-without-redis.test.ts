import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPrivateRedis } from '../../../src/local/start-private-redis.js';
import { startEmulator, type RunningEmulator } from '../../../src/emulator/start-emulator.js';
import type { RedisHandle } from '../../helpers/start-redis.js';
import { spawnWorker, waitFor } from '../../helpers/spawn-worker.js';

/** Invariant 10: a worker told to stop stops within its stated time, Redis or no Redis. */
describe('stopping a worker whose Redis is gone', () => {
  let redis: RedisHandle;
  let emulator: RunningEmulator;
  beforeAll(async () => {
    redis = await startPrivateRedis();
    emulator = await startEmulator({ apiKey: 'shutdown-key' });
  });
  afterAll(async () => {
    await emulator?.close();
    await redis?.stop();
  });

  it('exits after the shutdown grace period instead of hanging in close()', async () => {
    const worker = spawnWorker({
      REDIS_URL: redis.url,
      BUNCH_PREFIX: 'shutdown',
      GEMINI_BASE_URL: emulator.url,
      GEMINI_API_KEY: 'shutdown-key',
      BUNCH_SHUTDOWN_GRACE_MS: '1500',
    });
    try {
      await waitFor(() => worker.stderr().includes('"workers ready"'), 30_000, 'the worker to start');
      await redis.stop();
      worker.child.kill('SIGTERM');
      const exit = await Promise.race([
        worker.exited,
        new Promise<'still running'>((resolve) => setTimeout(() => resolve('still running'), 20_000)),
      ]);
      expect(exit).toEqual({ code: 0, signal: null });
      expect(worker.stderr()).toContain('"shutdown grace period passed: closing without waiting for Redis"');
    } finally {
      worker.child.kill('SIGKILL');
    }
  });
});
