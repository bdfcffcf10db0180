import { readFileSync } from 'node:fs';
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { BunchError } from '../errors/bunch-error.js';
import { parseRedisUrl, type RedisTopology } from './redis-topology.js';

export interface RedisClientSettings {
  /** BullMQ workers (blocking commands) retry forever: `maxRetriesPerRequest: null`. */
  maxRetriesPerRequest: number | null;
  connectionName: string;
  /** PEM file of the CA that signed the server certificates (BUNCH_REDIS_TLS_CA_FILE); default: the system's. */
  tlsCaFile?: string | undefined;
  /**
   * Reconnect at this fixed pace instead of ioredis' backoff (which reaches 5 s between attempts):
   * a probe must notice a Redis that is back within a moment.
   */
  reconnectEveryMs?: number;
}

/**
 * One ioredis client for any topology (redis-topology.ts): a plain `Redis` for one node, a
 * `Redis` that asks the sentinels for the master (and follows a failover), or a `Cluster` that
 * follows MOVED/ASK and re-reads the slot map after a failover. A Cluster has the same command
 * interface and BullMQ accepts it as a connection, so callers keep one type.
 */
export function openRedisClient(url: string, settings: RedisClientSettings): Redis {
  const topology = parseRedisUrl(url);
  const tls = topology.tls ? tlsOptions(settings.tlsCaFile) : undefined;
  const every = settings.reconnectEveryMs;
  const base: RedisOptions = {
    maxRetriesPerRequest: settings.maxRetriesPerRequest,
    enableOfflineQueue: true,
    lazyConnect: false,
    connectTimeout: 5000,
    connectionName: settings.connectionName,
    ...credentialsOf(topology),
    ...(tls ? { tls } : {}),
  };
  // A Cluster takes its pace from clusterRetryStrategy; its node connections must not have one.
  const pace: Pick<RedisOptions, 'retryStrategy'> = every === undefined ? {} : { retryStrategy: () => every };
  switch (topology.kind) {
    case 'single':
      return new Redis(topology.url, { ...base, ...pace });
    case 'sentinel':
      return new Redis({
        ...base,
        ...pace,
        sentinels: topology.sentinels,
        name: topology.name,
        db: topology.db,
        ...(topology.sentinelPassword ? { sentinelPassword: topology.sentinelPassword } : {}),
        ...(tls ? { enableTLSForSentinelMode: true, sentinelTLS: tls } : {}),
        // Subscribe to the sentinels' +switch-master: reconnect to a promoted replica at once.
        failoverDetector: true,
      });
    case 'cluster': {
      const { enableOfflineQueue: _offline, ...redisOptions } = base;
      const cluster = new Cluster(topology.nodes, {
        redisOptions,
        enableOfflineQueue: true,
        ...(every === undefined ? {} : { clusterRetryStrategy: () => every }),
        // TLS certificates name hosts, not the IPs the slot map gives (managed clusters).
        ...(tls ? { dnsLookup: (address: string, callback: (error: null, address: string) => void) => callback(null, address) } : {}),
        retryDelayOnFailover: 200,
        retryDelayOnClusterDown: 300,
        slotsRefreshTimeout: 2000,
      });
      return cluster as unknown as Redis;
    }
  }
}

function credentialsOf(topology: RedisTopology): Pick<RedisOptions, 'username' | 'password'> {
  if (topology.kind === 'single') return {}; // ioredis reads them from the URL
  return { ...(topology.username ? { username: topology.username } : {}), ...(topology.password ? { password: topology.password } : {}) };
}

function tlsOptions(caFile: string | undefined): { ca?: Buffer } {
  if (!caFile) return {};
  try {
    return { ca: readFileSync(caFile) };
  } catch (error) {
    throw new BunchError('E_CONFIG', `BUNCH_REDIS_TLS_CA_FILE ${caFile} cannot be read: ${(error as Error).message}`, { cause: error });
  }
}
