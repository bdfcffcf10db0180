import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { startPrivateRedis, type RedisHandle } from '../../src/local/start-private-redis.js';

const run = promisify(execFile);

export interface RedisClusterHandle {
  /** `redis+cluster://` naming every node. */
  url: string;
  nodes: RedisHandle[];
  /** A `redis+cluster://` URL naming only this node (any node is a usable seed). */
  urlVia(node: number): string;
  stop(): Promise<void>;
}

/**
 * A local Redis Cluster of `masters` redis-server processes (no replicas), made with
 * `redis-cli --cluster create`. Ports stay below 55536: the cluster bus listens on port + 10000.
 */
export async function startRedisCluster(masters = 3): Promise<RedisClusterHandle> {
  const nodes: RedisHandle[] = [];
  try {
    for (let i = 0; i < masters; i += 1) {
      nodes.push(
        await startPrivateRedis({
          portBelow: 55_536,
          args: ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '2000'],
        }),
      );
    }
    const addresses = nodes.map((node) => `127.0.0.1:${node.port}`);
    await run('redis-cli', ['--cluster', 'create', ...addresses, '--cluster-replicas', '0', '--cluster-yes'], { timeout: 30_000 });
    await untilClusterOk(nodes);
  } catch (error) {
    await Promise.all(nodes.map((node) => node.stop()));
    throw error;
  }
  return {
    url: `redis+cluster://${nodes.map((node) => `127.0.0.1:${node.port}`).join(',')}`,
    nodes,
    urlVia: (node) => `redis+cluster://127.0.0.1:${nodes[node]!.port}`,
    stop: async () => void (await Promise.all(nodes.map((node) => node.stop()))),
  };
}

async function untilClusterOk(nodes: RedisHandle[]): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (const node of nodes) {
    const client = new Redis(node.port, '127.0.0.1', { lazyConnect: false, maxRetriesPerRequest: 1 });
    try {
      for (;;) {
        const info = String(await client.call('CLUSTER', 'INFO'));
        if (info.includes('cluster_state:ok')) break;
        if (Date.now() > deadline) throw new Error(`cluster not ok after 30 s:\n${info}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    } finally {
      client.disconnect();
    }
  }
}
