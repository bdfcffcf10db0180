import { Redis, type RedisOptions } from 'ioredis';
import { BunchError } from '../errors/bunch-error.js';

/**
 * ioredis connections for the three roles bunch has. BullMQ workers use blocking commands and
 * require `maxRetriesPerRequest: null` (they retry forever through outages); producers and the CLI
 * fail fast so an operator sees "Redis is down" instead of a hang.
 */
export type RedisRole = 'worker' | 'producer';

export function createRedisConnection(url: string, role: RedisRole, onError?: (error: Error) => void): Redis {
  const options: RedisOptions = {
    maxRetriesPerRequest: role === 'worker' ? null : 3,
    enableOfflineQueue: true,
    lazyConnect: false,
    connectTimeout: 5000,
    connectionName: `bunch-${role}`,
  };
  const redis = new Redis(url, options);
  // Without a listener ioredis prints every reconnect failure as an "Unhandled error event" stack
  // trace; failing commands already surface the problem, so the caller decides what to log.
  redis.on('error', onError ?? (() => undefined));
  return redis;
}

/** Resolves once Redis answers PING; an E_NETWORK naming the (password-masked) URL otherwise. */
export async function waitForRedis(redis: Redis, url: string, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${Math.round(timeoutMs / 1000)} s`)), timeoutMs);
  });
  try {
    await Promise.race([redis.ping(), timeout]);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new BunchError('E_NETWORK', `cannot reach Redis at ${describeRedisUrl(url)}: ${reason}`, { cause: error });
  } finally {
    clearTimeout(timer);
  }
}

/** Hides the password of a redis:// URL for messages and logs. */
export function describeRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'redis (unparseable URL)';
  }
}
