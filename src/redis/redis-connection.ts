import { Redis, type RedisOptions } from 'ioredis';

/**
 * ioredis connections for the three roles bunch has. BullMQ workers use blocking commands and
 * require `maxRetriesPerRequest: null` (they retry forever through outages); producers and the CLI
 * fail fast so an operator sees "Redis is down" instead of a hang.
 */
export type RedisRole = 'worker' | 'producer';

export function createRedisConnection(url: string, role: RedisRole): Redis {
  const options: RedisOptions = {
    maxRetriesPerRequest: role === 'worker' ? null : 3,
    enableOfflineQueue: true,
    lazyConnect: false,
    connectionName: `bunch-${role}`,
  };
  return new Redis(url, options);
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
