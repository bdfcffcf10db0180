import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { RELEASE_LOCK_LUA, RENEW_CLAIM_LUA } from './run-scripts.js';
import { keepRenewed } from '../redis/keep-renewed.js';

/**
 * Runs `work` while holding a Redis lock (SET NX PX `ttlMs`), and answers undefined without running
 * it when someone else holds the lock. While the work runs the lock is renewed every third of its
 * ttl, so work that takes longer than the ttl keeps it; should a renewal find the lock gone or
 * someone else's (Redis lost it, or this process was frozen past the ttl), `lost` aborts and the
 * work is expected to stop soon (a renewal comes every third of the ttl, so `lost` can be late: work
 * whose last step must not run without the lock checks `token` against the key in that step). The
 * lock is freed afterwards only while it is still this holder's;
 * a holder that dies, or cannot free it, leaves it to expire.
 */
export async function whileLocked<T>(redis: Redis, key: string, ttlMs: number, work: (lost: AbortSignal, token: string) => Promise<T>): Promise<T | undefined> {
  const token = randomUUID();
  if ((await redis.set(key, token, 'PX', ttlMs, 'NX')) !== 'OK') return undefined;
  const lost = new AbortController();
  const stopRenewing = keepRenewed(
    async () => (await redis.eval(RENEW_CLAIM_LUA, 1, key, token, String(ttlMs))) === 1,
    ttlMs / 3,
    () => lost.abort(new Error(`lock ${key} was lost to another holder`)),
  );
  try {
    return await work(lost.signal, token);
  } finally {
    stopRenewing();
    // A release that fails must not replace the work's own result or error: the lock then
    // expires on its own, which is what a holder that died would leave too.
    await redis.eval(RELEASE_LOCK_LUA, 1, key, token).catch(() => undefined);
  }
}
