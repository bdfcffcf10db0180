import { describe, expect, it } from 'vitest';
import { hasHashTag, maskRedisUrl, parseRedisUrl } from '../../../src/redis/redis-topology.js';

describe('parseRedisUrl', () => {
  it('one node, with or without TLS and credentials', () => {
    expect(parseRedisUrl('redis://127.0.0.1:6380/2')).toEqual({ kind: 'single', url: 'redis://127.0.0.1:6380/2', tls: false });
    expect(parseRedisUrl('rediss://app:s%40cret@cache.example:6380')).toEqual({
      kind: 'single',
      url: 'rediss://app:s%40cret@cache.example:6380',
      tls: true,
      username: 'app',
      password: 's@cret',
    });
  });

  it('Sentinel: sentinels, master name, db, passwords', () => {
    expect(parseRedisUrl('redis+sentinel://:pw@s1:26379,s2,[::1]:26380/mymaster?db=3&sentinelPassword=sp')).toEqual({
      kind: 'sentinel',
      sentinels: [
        { host: 's1', port: 26379 },
        { host: 's2', port: 26379 },
        { host: '::1', port: 26380 },
      ],
      name: 'mymaster',
      db: 3,
      tls: false,
      password: 'pw',
      sentinelPassword: 'sp',
    });
    expect(parseRedisUrl('rediss+sentinel://s1:26379/main')).toMatchObject({ kind: 'sentinel', tls: true, name: 'main', db: 0 });
  });

  it('Cluster: any nodes as seeds', () => {
    expect(parseRedisUrl('redis+cluster://user:pw@n1:7000,n2:7001')).toEqual({
      kind: 'cluster',
      nodes: [
        { host: 'n1', port: 7000 },
        { host: 'n2', port: 7001 },
      ],
      tls: false,
      username: 'user',
      password: 'pw',
    });
  });

  it('refuses what it cannot use with E_CONFIG, never showing the password', () => {
    const cases = [
      ['http://h:1', 'expected redis://'],
      ['redis+sentinel://:hunter2@s1:26379', 'name the master'],
      ['redis+cluster://:hunter2@n1:7000/0', 'no databases'],
      ['redis+cluster://:hunter2@n1:99999', '"n1:99999" is not host:port'],
      ['redis+sentinel://:hunter2@s1/m?db=x', 'db must be a database number'],
    ] as const;
    for (const [url, reason] of cases) {
      let message = '';
      try {
        parseRedisUrl(url);
      } catch (error) {
        expect((error as { code: string }).code).toBe('E_CONFIG');
        message = (error as Error).message;
      }
      expect(message).toContain(reason);
      expect(message).not.toContain('hunter2');
    }
  });
});

describe('maskRedisUrl and hasHashTag', () => {
  it('masks passwords in every form', () => {
    expect(maskRedisUrl('redis://:pw@h:1')).toBe('redis://:***@h:1');
    expect(maskRedisUrl('rediss+cluster://u:pw@a:1,b:2')).toBe('rediss+cluster://u:***@a:1,b:2');
    expect(maskRedisUrl('redis+sentinel://s:1/m?sentinelPassword=x&db=1')).toBe('redis+sentinel://s:1/m?sentinelPassword=***&db=1');
    expect(maskRedisUrl('redis://h:1')).toBe('redis://h:1');
    // Before: `redis://:***@ss@h:1` (the end of the password shown) and the query left as it was.
    expect(maskRedisUrl('redis://:p@ss@h:1/0')).toBe('redis://:***@h:1/0');
    expect(maskRedisUrl('redis://h:1/0?password=topsecret&db=2')).toBe('redis://h:1/0?password=***&db=2');
    expect(maskRedisUrl('redis://secret@h:1')).toBe('redis://***@h:1');
    expect(maskRedisUrl('redis://h:1/0?x=a@b')).toBe('redis://h:1/0?x=a@b');
  });

  it('knows a hash-tagged prefix', () => {
    expect([hasHashTag('{bunch}'), hasHashTag('{bunch}:eu'), hasHashTag('bunch'), hasHashTag('{}')]).toEqual([true, true, false, false]);
  });

  it('reads the tag as Redis does: the first "{", then the first "}" after it, something between', () => {
    // Redis hashes the whole key when the first "{" is followed at once by "}": keys would scatter.
    expect(hasHashTag('{}{bunch}')).toBe(false);
    expect(hasHashTag('eu{bunch}')).toBe(true);
    expect(hasHashTag('a{b')).toBe(false);
    expect(hasHashTag('a{b}{c}')).toBe(true);
  });
});
