import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../../src/emulator/start-emulator.js';
import { startPrivateRedis, type RedisHandle } from '../../../src/local/start-private-redis.js';
import { spawnWorker, waitFor } from '../../helpers/spawn-worker.js';

describe('a worker through a Redis outage', () => {
  let redis: RedisHandle;
  let emulator: RunningEmulator;
  beforeAll(async () => {
    redis = await startPrivateRedis({ durable: true });
    emulator = await startEmulator({ apiKey: 'outage-key' });
  });
  afterAll(async () => {
    await emulator?.close();
    await redis?.stop();
  });

  it('logs one JSON warning per 10 s with how long Redis is gone, one line when it is back, and no stack traces', async () => {
    const worker = spawnWorker({ REDIS_URL: redis.url, BUNCH_PREFIX: 'outage', GEMINI_BASE_URL: emulator.url, GEMINI_API_KEY: 'outage-key' });
    try {
      await waitFor(() => worker.stderr().includes('"workers ready"'), 30_000, 'the worker to start').catch((error: Error) => {
        throw new Error(`${error.message}; its stderr: ${worker.stderr()}`);
      });
      await redis.crashAndRestart!(12_000);
      await waitFor(() => worker.stderr().includes('"Redis is back"'), 30_000, 'the worker to see Redis back');
      const lines = worker.stderr().split('\n').filter(Boolean).map((line) => JSON.parse(line) as { msg: string; downForMs?: number; outageMs?: number });
      const warnings = lines.filter((line) => line.msg === 'Redis unreachable; retrying');
      expect(warnings.length).toBeGreaterThanOrEqual(2);
      expect(warnings.length).toBeLessThanOrEqual(3);
      expect(warnings[0]!.downForMs).toBe(0);
      expect(warnings[1]!.downForMs).toBeGreaterThanOrEqual(10_000);
      const back = lines.filter((line) => line.msg === 'Redis is back');
      expect(back).toHaveLength(1);
      // Redis was down 12 s; the worker notices the drop a moment after the kill.
      expect(back[0]!.outageMs).toBeGreaterThanOrEqual(11_000);
      expect(lines.filter((line) => line.msg === 'worker error')).toEqual([]);
      worker.child.kill('SIGTERM');
      expect(await worker.exited).toEqual({ code: 0, signal: null });
    } finally {
      worker.child.kill('SIGKILL');
    }
  }, 60_000);
});
