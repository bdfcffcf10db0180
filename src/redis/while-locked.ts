import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { RELEASE_LOCK_LUA } from '../runs/run-scripts.js';

/**
 * Runs `work` while holding a Redis lock (SET NX PX `ttlMs`), and answers undefined without running
 * it when someone else holds the lock. The lock is freed afterwards only while it is still this
 * holder's (it may have expired and been taken by another); a holder that dies, or cannot free
 * it, leaves it to expire.
 */
export async function whileLocked<T>(redis: Redis, key: string, ttlMs: number, work: () => Promise<T>): Promise<T | undefined> {
  const token = randomUUID();
  if ((await redis.set(key, token, 'PX', ttlMs, 'NX')) !== 'OK') return undefined;
  try {
    return await work();
  } finally {
    // A release that fails must not replace the work's own result or error: the lock then
    // expires on its own, which is what a holder that died would leave too.
    await redis.eval(RELEASE_LOCK_LUA, 1, key, token).catch(() => undefined);
  }
}
