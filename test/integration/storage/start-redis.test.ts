import { connect } from 'node:net';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { startRedis } from '../../helpers/start-redis.js';

// Tests the shared test helper itself (it lives here because it ships with the storage work).

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
}

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

describe('startRedis', () => {
  it('starts a private redis-server that answers PING, and stop() ends that process', async () => {
    const redis = await startRedis({ ignoreEnv: true });
    expect(redis.url).toBe(`redis://127.0.0.1:${redis.port}`);
    expect(redis.port).not.toBe(6379);
    const pid = redis.pid;
    expect(pid).toBeTypeOf('number');

    const client = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 0 });
    try {
      await client.connect();
      expect(await client.ping()).toBe('PONG');
      // Persistence is off: nothing is written to disk behind the tests' backs.
      expect(await client.config('GET', 'appendonly')).toEqual(['appendonly', 'no']);
      expect(await client.config('GET', 'save')).toEqual(['save', '']);
    } finally {
      client.disconnect();
    }

    await redis.stop();
    expect(processAlive(pid as number)).toBe(false);
    expect(await connectionRefused(redis.port)).toBe(true);
    await redis.stop(); // idempotent
  });

  it('runs independent servers side by side', async () => {
    const [a, b] = await Promise.all([startRedis({ ignoreEnv: true }), startRedis({ ignoreEnv: true })]);
    try {
      expect(a.port).not.toBe(b.port);
      expect(a.pid).not.toBe(b.pid);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });
});
