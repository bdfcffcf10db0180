import type { Redis } from 'ioredis';
import { openRedisClient } from './open-redis-client.js';
import { maskRedisUrl } from './redis-topology.js';
import { BunchError } from '../errors/bunch-error.js';

/**
 * ioredis connections for the three roles bunch has. BullMQ workers use blocking commands and
 * require `maxRetriesPerRequest: null` (they retry forever through outages); producers and the CLI
 * fail fast so an operator sees "Redis is down" instead of a hang.
 */
export type RedisRole = 'worker' | 'producer';

export function createRedisConnection(url: string, role: RedisRole, onError?: (error: Error) => void): Redis {
  // One node, Sentinel or Cluster, from the URL's scheme (redis-topology.ts).
  const redis = openRedisClient(url, {
    maxRetriesPerRequest: role === 'worker' ? null : 3,
    connectionName: `bunch-${role}`,
    tlsCaFile: process.env.BUNCH_REDIS_TLS_CA_FILE,
  });
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

/** Hides the passwords of a Redis URL (any topology) for messages and logs. */
export function describeRedisUrl(url: string): string {
  return maskRedisUrl(url);
}
