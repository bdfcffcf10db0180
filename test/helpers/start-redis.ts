import { startPrivateRedis, type RedisHandle } from '../../src/local/start-private-redis.js';

export type { RedisHandle };

export interface StartRedisOptions {
  /** Ignore REDIS_URL and always start a private server (used to test the helper itself). */
  ignoreEnv?: boolean;
}

/**
 * A Redis for one test file. With REDIS_URL set, that server is used as is (tests isolate by queue
 * name and key prefix, and stop() leaves it running). Otherwise a private `redis-server` on a free
 * port, stopped by pid (src/local/start-private-redis.ts, the same code `bunch demo` uses).
 */
export async function startRedis(options: StartRedisOptions = {}): Promise<RedisHandle> {
  const fromEnv = options.ignoreEnv ? undefined : process.env.REDIS_URL;
  if (fromEnv) {
    return { url: fromEnv, port: Number(new URL(fromEnv).port || 6379), pid: undefined, stop: async () => {} };
  }
  return startPrivateRedis();
}
