import type { Redis } from 'ioredis';
import { BunchError } from '../errors/bunch-error.js';
import { hasHashTag, maskRedisUrl, parseRedisUrl } from './redis-topology.js';

/**
 * Refuses, at start-up and with a message saying why, the two set-ups that would fail later with
 * MOVED or CROSSSLOT in the middle of a run:
 *  - a cluster URL whose key prefix has no hash tag: BullMQ's scripts and bunch's run scripts
 *    touch many keys at once, which Redis Cluster allows only within one slot;
 *  - a plain redis:// URL that names one node of a cluster: it works only while that node owns
 *    the prefix's slot, and breaks on the first failover.
 */
export async function assertTopologyFits(redis: Redis, url: string, prefix: string): Promise<void> {
  const topology = parseRedisUrl(url);
  if (topology.kind === 'cluster') {
    if (!hasHashTag(prefix)) {
      throw new BunchError(
        'E_CONFIG',
        `on Redis Cluster the key prefix must carry a hash tag, e.g. BUNCH_PREFIX='{${prefix || 'bunch'}}': ` +
          `bunch and BullMQ run scripts over many keys at once, which a cluster allows only when they share one slot (prefix is "${prefix}")`,
      );
    }
    return;
  }
  const info = await redis.info('cluster');
  if (/cluster_enabled:1/.test(info)) {
    throw new BunchError(
      'E_CONFIG',
      `${maskRedisUrl(url)} is one node of a Redis Cluster: use a redis+cluster:// URL naming any of its nodes ` +
        `(e.g. redis+cluster://host1:6379,host2:6379) and a hash-tagged prefix such as BUNCH_PREFIX='{bunch}'`,
    );
  }
}
