import { Redis } from 'ioredis';
import { startPrivateRedis, type RedisHandle } from '../../src/local/start-private-redis.js';

export const MASTER_NAME = 'mymaster';

export interface RedisSentinelHandle {
  /** `redis+sentinel://` naming the three sentinels and the master. */
  url: string;
  primary: RedisHandle;
  replica: RedisHandle;
  sentinels: RedisHandle[];
  /** The port the sentinels currently report as the master's. */
  masterPort(): Promise<number>;
  stop(): Promise<void>;
}

/**
 * A primary, one replica and three sentinels (quorum 2), all local redis-server processes, with
 * short timeouts so a killed primary is replaced within a few seconds. The replica has AOF, as a
 * production replica that may become the primary should.
 */
export async function startRedisSentinel(): Promise<RedisSentinelHandle> {
  const started: RedisHandle[] = [];
  try {
    const primary = await startPrivateRedis({ durable: true });
    started.push(primary);
    const replica = await startPrivateRedis({ durable: true, args: ['--replicaof', '127.0.0.1', String(primary.port)] });
    started.push(replica);
    await untilReplicaSynced(replica.port);
    const config = [
      `sentinel monitor ${MASTER_NAME} 127.0.0.1 ${primary.port} 2`,
      `sentinel down-after-milliseconds ${MASTER_NAME} 1000`,
      `sentinel failover-timeout ${MASTER_NAME} 5000`,
      `sentinel parallel-syncs ${MASTER_NAME} 1`,
    ].join('\n');
    const sentinels: RedisHandle[] = [];
    for (let i = 0; i < 3; i += 1) {
      const sentinel = await startPrivateRedis({ sentinelConfig: config });
      started.push(sentinel);
      sentinels.push(sentinel);
    }
    const masterPort = async () => {
      const client = new Redis(sentinels[0]!.port, '127.0.0.1', { maxRetriesPerRequest: 1 });
      try {
        const [, port] = (await client.call('SENTINEL', 'get-master-addr-by-name', MASTER_NAME)) as [string, string];
        return Number(port);
      } finally {
        client.disconnect();
      }
    };
    return {
      url: `redis+sentinel://${sentinels.map((s) => `127.0.0.1:${s.port}`).join(',')}/${MASTER_NAME}`,
      primary,
      replica,
      sentinels,
      masterPort,
      stop: async () => void (await Promise.all(started.map((handle) => handle.stop()))),
    };
  } catch (error) {
    await Promise.all(started.map((handle) => handle.stop()));
    throw error;
  }
}

async function untilReplicaSynced(port: number): Promise<void> {
  const client = new Redis(port, '127.0.0.1', { maxRetriesPerRequest: 1 });
  const deadline = Date.now() + 15_000;
  try {
    for (;;) {
      const info = await client.info('replication');
      if (/master_link_status:up/.test(info)) return;
      if (Date.now() > deadline) throw new Error(`replica did not sync within 15 s:\n${info}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    client.disconnect();
  }
}
