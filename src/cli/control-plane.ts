import type { Redis } from 'ioredis';
import { openRunQueues, type RunQueues } from '../lanes/run-queues.js';
import { createRedisConnection, waitForRedis } from '../redis/redis-connection.js';
import { RunStore } from '../runs/run-store.js';
import { assertTopologyFits } from '../redis/assert-topology-fits.js';

/** The Redis-side handles a CLI verb needs to start, watch or steer runs. */
export interface ControlPlane {
  redis: Redis;
  runs: RunStore;
  queues: RunQueues;
  close(): Promise<void>;
}

export async function openControlPlane(redisUrl: string, prefix: string): Promise<ControlPlane> {
  const redis = createRedisConnection(redisUrl, 'producer');
  try {
    await waitForRedis(redis, redisUrl, 10_000);
    await assertTopologyFits(redis, redisUrl, prefix);
  } catch (error) {
    redis.disconnect();
    throw error;
  }
  const runs = new RunStore(redis, prefix);
  const queues = openRunQueues(redis, prefix);
  return {
    redis,
    runs,
    queues,
    async close() {
      await queues.close();
      redis.disconnect();
    },
  };
}
