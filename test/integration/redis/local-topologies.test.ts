import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { startRedisCluster } from '../../helpers/redis-cluster.js';
import { MASTER_NAME, startRedisSentinel } from '../../helpers/redis-sentinel.js';

describe('local Redis topologies for the drills', () => {
  it('a three-master cluster covers every slot', async () => {
    const cluster = await startRedisCluster(3);
    try {
      expect(cluster.nodes).toHaveLength(3);
      expect(cluster.nodes.every((node) => node.port < 55_536)).toBe(true);
      const client = new Redis(cluster.nodes[1]!.port, '127.0.0.1');
      const info = String(await client.call('CLUSTER', 'INFO'));
      client.disconnect();
      expect(info).toContain('cluster_slots_assigned:16384');
      expect(info).toContain('cluster_known_nodes:3');
    } finally {
      await cluster.stop();
    }
  });

  it('sentinels promote the replica when the primary is killed', async () => {
    const ha = await startRedisSentinel();
    try {
      expect(await ha.masterPort()).toBe(ha.primary.port);
      await ha.primary.crash!();
      const deadline = Date.now() + 30_000;
      while ((await ha.masterPort()) !== ha.replica.port) {
        if (Date.now() > deadline) throw new Error(`no failover to ${MASTER_NAME} within 30 s`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      const promoted = new Redis(ha.replica.port, '127.0.0.1');
      expect(await promoted.info('replication')).toContain('role:master');
      promoted.disconnect();
    } finally {
      await ha.stop();
    }
  });
});
