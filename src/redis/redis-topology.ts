import { BunchError } from '../errors/bunch-error.js';

export interface HostPort {
  host: string;
  port: number;
}

interface Credentials {
  username?: string;
  password?: string;
}

/**
 * Where Redis is and how to talk to it, from one URL (REDIS_URL or --redis-url):
 *   redis://[user:pass@]host:port[/db]                     one node (rediss:// for TLS)
 *   redis+sentinel://[user:pass@]h1:26379,h2:26379/mymaster[?db=0&sentinelPassword=…]
 *                                                          Sentinel: the master's name is the path
 *   redis+cluster://[user:pass@]h1:6379,h2:6379            Cluster: any nodes as seeds
 * `rediss+sentinel://` and `rediss+cluster://` use TLS to every node (and to the sentinels).
 */
export type RedisTopology =
  | ({ kind: 'single'; url: string; tls: boolean } & Credentials)
  | ({ kind: 'sentinel'; sentinels: HostPort[]; name: string; db: number; sentinelPassword?: string; tls: boolean } & Credentials)
  | ({ kind: 'cluster'; nodes: HostPort[]; tls: boolean } & Credentials);

const SCHEMES: Record<string, { kind: RedisTopology['kind']; tls: boolean; defaultPort: number }> = {
  'redis:': { kind: 'single', tls: false, defaultPort: 6379 },
  'rediss:': { kind: 'single', tls: true, defaultPort: 6379 },
  'redis+sentinel:': { kind: 'sentinel', tls: false, defaultPort: 26379 },
  'rediss+sentinel:': { kind: 'sentinel', tls: true, defaultPort: 26379 },
  'redis+cluster:': { kind: 'cluster', tls: false, defaultPort: 6379 },
  'rediss+cluster:': { kind: 'cluster', tls: true, defaultPort: 6379 },
};

export function parseRedisUrl(url: string): RedisTopology {
  // Credentials end at the LAST `@` before the hosts (as ioredis and maskRedisUrl read them): a
  // password holding a raw `@` is still one password, not a password and a host.
  const match = /^([a-z+]+:)\/\/(?:([^/?#]*)@)?([^/?#@]*)(\/[^?#]*)?(?:\?([^#]*))?$/i.exec(url.trim());
  const scheme = match ? SCHEMES[(match[1] ?? '').toLowerCase()] : undefined;
  if (!match || !scheme) {
    throw bad(url, `expected redis://, rediss://, redis+sentinel://, redis+cluster:// (or the rediss+ forms)`);
  }
  const credentials = parseUserInfo(match[2]);
  const query = new URLSearchParams(match[5] ?? '');
  const path = decodeURIComponent((match[4] ?? '').replace(/^\//, ''));
  if (scheme.kind === 'single') {
    // ioredis reads the rest (host, port, db, credentials) from the URL itself.
    return { kind: 'single', url: url.trim(), tls: scheme.tls, ...credentials };
  }
  const hosts = parseHostList(url, match[3] ?? '', scheme.defaultPort);
  if (scheme.kind === 'cluster') {
    if (path) throw bad(url, 'a cluster URL names nodes only: Redis Cluster has no databases');
    return { kind: 'cluster', nodes: hosts, tls: scheme.tls, ...credentials };
  }
  if (!path) throw bad(url, 'name the master after the sentinels, e.g. redis+sentinel://h1:26379,h2:26379/mymaster');
  const db = Number(query.get('db') ?? 0);
  if (!Number.isInteger(db) || db < 0) throw bad(url, `db must be a database number, not "${query.get('db')}"`);
  const topology: RedisTopology = { kind: 'sentinel', sentinels: hosts, name: path, db, tls: scheme.tls, ...credentials };
  const sentinelPassword = query.get('sentinelPassword');
  if (sentinelPassword) topology.sentinelPassword = sentinelPassword;
  return topology;
}

function parseUserInfo(userinfo: string | undefined): Credentials {
  if (!userinfo) return {};
  const colon = userinfo.indexOf(':');
  const username = decodeURIComponent(colon === -1 ? userinfo : userinfo.slice(0, colon));
  const password = colon === -1 ? undefined : decodeURIComponent(userinfo.slice(colon + 1));
  // redis://:secret@host is the classic password-only form (AUTH <password>).
  return { ...(username ? { username } : {}), ...(password ? { password } : {}) };
}

function parseHostList(url: string, list: string, defaultPort: number): HostPort[] {
  const hosts = list.split(',').map((entry) => entry.trim()).filter(Boolean);
  if (hosts.length === 0) throw bad(url, 'no host given');
  return hosts.map((entry) => {
    const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
    const plain = /^([^:]+)(?::(\d+))?$/.exec(entry);
    const found = bracketed ?? plain;
    const port = Number(found?.[2] ?? defaultPort);
    if (!found?.[1] || !Number.isInteger(port) || port < 1 || port > 65535) throw bad(url, `"${entry}" is not host:port`);
    return { host: found[1], port };
  });
}

function bad(url: string, reason: string): BunchError {
  return new BunchError('E_CONFIG', `Redis URL ${maskRedisUrl(url)} is not usable: ${reason}`);
}

/**
 * The URL with its passwords replaced by ***, for messages and logs: the userinfo's (up to the
 * LAST "@" of the authority — ioredis takes `redis://:p@ss@host` as password `p@ss`), and
 * `password` / `sentinelPassword` query parameters (ioredis reads query parameters as options).
 */
export function maskRedisUrl(url: string): string {
  const scheme = /^[a-z+]+:\/\//i.exec(url)?.[0] ?? '';
  const rest = url.slice(scheme.length);
  const authorityEnd = rest.search(/[/?#]/);
  const authority = authorityEnd === -1 ? rest : rest.slice(0, authorityEnd);
  const at = authority.lastIndexOf('@');
  let masked = url;
  if (at !== -1) {
    const userinfo = authority.slice(0, at);
    const colon = userinfo.indexOf(':');
    const shownUser = colon === -1 ? '' : `${userinfo.slice(0, colon)}:`;
    // A userinfo without ":" is a password alone to ioredis (redis://secret@host): masked too.
    masked = `${scheme}${shownUser}***${rest.slice(at)}`;
  }
  return masked.replace(/([?&](?:sentinelPassword|password)=)[^&#]*/gi, '$1***');
}

/** True when a key prefix carries a hash tag (`{…}`): every key of bunch then lives in one slot. */
export function hasHashTag(prefix: string): boolean {
  // Redis's rule: the first "{", then the first "}" after it, with something between; `{}{x}` has
  // no tag (the whole key is hashed).
  const open = prefix.indexOf('{');
  if (open === -1) return false;
  const close = prefix.indexOf('}', open + 1);
  return close > open + 1;
}
