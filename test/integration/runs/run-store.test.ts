import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalObjectStore } from '../../../src/storage/local-object-store.js';
import type { ItemRecord } from '../../../src/runs/item-record.js';
import { config, record } from '../../helpers/run-fixtures.js';
import { runIndexKey, runKeys, runObjectKeys } from '../../../src/runs/run-keys.js';
import { RunStore } from '../../../src/runs/run-store.js';
import { SkipSegments } from '../../../src/lanes/skip-segments.js';
import type { ObjectStore } from '../../../src/storage/object-store.js';
import { BunchError } from '../../../src/errors/bunch-error.js';
import { startRedis, type RedisHandle } from '../../helpers/start-redis.js';
import { tempDir, type TempDir } from '../../helpers/temp-dir.js';

describe('RunStore (real Redis)', () => {
  let redisServer: RedisHandle;
  let redis: Redis;
  let dir: TempDir;
  beforeAll(async () => {
    redisServer = await startRedis();
    redis = new Redis(redisServer.url);
    dir = await tempDir('runstore');
  });
  afterAll(async () => {
    redis?.disconnect();
    await redisServer?.stop();
    await dir?.remove();
  });

  it('records many in one round trip with the same outcomes as one at a time: order kept, a repeat not counted, completion told once', async () => {
    const prefix = `rs${randomBytes(3).toString('hex')}`;
    const runs = new RunStore(redis, prefix, 100);
    const runId = 'run-many';
    await runs.createRun(config(runId));
    expect(await runs.markPlanned(runId, 3, 0)).toBe('planned');
    const outcomes = await runs.records.recordTerminalMany(runId, [record(0), record(1, 'skipped'), record(0, 'failed'), record(2)]);
    expect(outcomes.map((o) => [o.recorded, o.complete])).toEqual([
      [true, false],
      [true, false],
      [false, false],
      [true, true],
    ]);
    const meta = (await runs.getMeta(runId))!;
    expect(meta.counts).toEqual({ succeeded: 2, failed: 0, skipped: 1, cancelled: 0 });
    expect(meta.costUsd).toBeCloseTo(0.116, 9);
    expect(await runs.records.recordTerminalMany(runId, [])).toEqual([]);
  });

  it('trims the run index of runs older than twice the retention when a run is created (before: one entry per run forever)', async () => {
    const prefix = `rs${randomBytes(3).toString('hex')}`;
    const runs = new RunStore(redis, prefix, 100);
    const day = 24 * 3600 * 1000;
    const index = runIndexKey(prefix);
    // Runs long gone from Redis (their meta expired 30 days after they ended), and one still within reach.
    await redis.zadd(index, String(Date.now() - 400 * day), 'ancient', String(Date.now() - 61 * day), 'old', String(Date.now() - 59 * day), 'recent');
    await runs.createRun(config('run-new'));
    expect(await redis.zrange(index, '0', '-1')).toEqual(['recent', 'run-new']);
    expect(await runs.listRuns(10)).toEqual(['run-new', 'recent']);
  });

  it('counts records written straight to a segment once, keeps none of them in Redis, and refuses records with a cost', async () => {
    const prefix = `rs${randomBytes(3).toString('hex')}`;
    const runs = new RunStore(redis, prefix, 100);
    const store = new LocalObjectStore({ root: dir.path });
    const runId = 'run-segments';
    await runs.createRun(config(runId));
    const skipped = (from: number, count: number) => Array.from({ length: count }, (_, i) => record(from + i, 'skipped'));

    expect(await runs.records.recordInSegment(runId, store, skipped(0, 300))).toEqual({ added: 300, complete: false });
    // Index 1 again (a duplicate) is not counted twice; the others are new.
    expect(await runs.records.recordInSegment(runId, store, skipped(299, 2))).toEqual({ added: 1, complete: false });
    expect(await redis.hlen(runKeys(prefix, runId).records)).toBe(0);
    await expect(runs.records.recordInSegment(runId, store, [record(400, 'succeeded')])).rejects.toMatchObject({ code: 'E_INTERNAL' });
    await runs.records.recordTerminal(runId, record(301, 'succeeded'));
    expect(await runs.markPlanned(runId, 302, 0)).toBe('complete');
    const meta = (await runs.getMeta(runId))!;
    expect(meta).toMatchObject({ terminal: 302, segments: 2 });
    expect(meta.counts).toEqual({ succeeded: 1, failed: 0, skipped: 301, cancelled: 0 });
    const indexes: number[] = [];
    for await (const r of runs.records.read(runId, store)) indexes.push(r.index);
    expect(indexes.sort((a, b) => a - b)).toEqual(Array.from({ length: 302 }, (_, i) => i));
    await expect(runs.records.recordInSegment('no-such-run', store, skipped(0, 1))).rejects.toMatchObject({ code: 'E_NOT_FOUND' });
    expect(await redis.exists(runKeys(prefix, 'no-such-run').meta)).toBe(0);
  });

  it('a segment written whose count never came (planning broke off in between) adds no records to the manifest', async () => {
    const prefix = `rs${randomBytes(3).toString('hex')}`;
    const runs = new RunStore(redis, prefix);
    const store = new LocalObjectStore({ root: dir.path });
    const runId = 'run-uncounted';
    await runs.createRun(config(runId));
    // What recordInSegment does before its count: a segment number, then the segment written.
    const keys = runKeys(prefix, runId);
    const seq = await redis.hincrby(keys.meta, 'segments', 1);
    await store.put(runObjectKeys(runId).segment(seq), [0, 1, 2].map((i) => JSON.stringify(record(i, 'skipped'))).join('\n') + '\n');
    expect((await runs.getMeta(runId))?.segments).toBe(1);
    const before: number[] = [];
    for await (const r of runs.records.read(runId, store)) before.push(r.index);
    expect(before).toEqual([]);
    // Planning broke off: only what was counted is planned, and it is done.
    await runs.records.recordTerminal(runId, record(3, 'succeeded'));
    expect(await runs.markPlanned(runId, 1, 0)).toBe('complete');
    const indexes: number[] = [];
    for await (const r of runs.records.read(runId, store)) indexes.push(r.index);
    // Before: [0, 1, 2, 3] — three lines the counts (terminal 1, skipped 0) do not have.
    expect(indexes).toEqual([3]);
  });

  it('SkipSegments writes segments while planning goes on: each skip counted once, completion told once, a failed write reported at flush', async () => {
    const prefix = `rs${randomBytes(3).toString('hex')}`;
    const runs = new RunStore(redis, prefix, 100);
    const local = new LocalObjectStore({ root: dir.path });
    const skipped = (from: number, count: number) => Array.from({ length: count }, (_, i) => record(from + i, 'skipped'));
    // Segment puts that wait until released: add() must come back with two still under way.
    const held: (() => void)[] = [];
    let failNext = false;
    const slow: ObjectStore = {
      ...local,
      url: local.url,
      uriFor: (key) => local.uriFor(key),
      get: (key) => local.get(key),
      getStream: (key) => local.getStream(key),
      head: (key) => local.head(key),
      delete: (key) => local.delete(key),
      list: (key, options) => local.list(key, options),
      close: () => local.close(),
      put: async (key, body, options) => {
        await new Promise<void>((resolve) => held.push(resolve));
        if (failNext) throw new BunchError('E_STORAGE', 'disk gone');
        return local.put(key, body, options);
      },
    };
    const runId = 'run-background';
    await runs.createRun(config(runId));
    expect(await runs.markPlanned(runId, 7000, 0)).toBe('planned');
    let completions = 0;
    const skips = new SkipSegments(runs, slow, runId, async () => void (completions += 1));
    await skips.add(skipped(0, 4500));
    await until(() => held.length === 2);
    expect(skips.recorded).toBe(0);
    // A third full segment waits for room: add() returns only once one of the two is done.
    let thirdAdded = false;
    const third = skips.add(skipped(4500, 2500)).then(() => void (thirdAdded = true));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(thirdAdded).toBe(false);
    held.shift()!();
    await third;
    // flush() writes the last 1,000 and waits for every segment still under way.
    const releaser = setInterval(() => held.shift()?.(), 2);
    await skips.flush();
    clearInterval(releaser);
    expect(skips.recorded).toBe(7000);
    expect(completions).toBe(1);
    expect((await runs.getMeta(runId))!.counts).toEqual({ succeeded: 0, failed: 0, skipped: 7000, cancelled: 0 });

    const failing = 'run-background-failing';
    await runs.createRun(config(failing));
    const broken = new SkipSegments(runs, slow, failing, async () => undefined);
    await broken.add(skipped(0, 2000));
    await until(() => held.length === 1);
    failNext = true;
    held.shift()!();
    await expect(broken.flush()).rejects.toMatchObject({ code: 'E_STORAGE' });
    expect(broken.recorded).toBe(0);
  });

  it('beginDelivery answers "terminal?" and the run\'s control fields, and takes the output claim when it is free', async () => {
    const prefix = `rs${randomBytes(3).toString('hex')}`;
    const runs = new RunStore(redis, prefix, 100);
    const runId = 'run-control';
    const identity = { markerUri: 'file:///out/S1/main.done.json', inputHash: 'h1' };
    const claimOf = (token: string) => ({ identity, token, ttlMs: 10_000 });
    await runs.createRun(config(runId));
    await runs.setStatus(runId, 'running');
    expect(await runs.beginDelivery(runId, 3, claimOf('run-control/3/1@w1'))).toEqual({ terminal: false, status: 'running', claim: { taken: true } });
    const second = await runs.beginDelivery(runId, 3, claimOf('run-control/3/2@w2'));
    expect(second).toMatchObject({ terminal: false, status: 'running', claim: { taken: false, holder: 'run-control/3/1@w1' } });
    expect(second.claim.taken === false && second.claim.ttlMs > 9_000 && second.claim.ttlMs <= 10_000).toBe(true);

    await runs.records.recordTerminal(runId, record(3));
    const until = Date.now() + 60_000;
    await runs.noteQuotaExhausted(runId, until);
    await runs.requestStop(runId, 'E_BUDGET');
    await runs.claims.release(identity, 'run-control/3/1@w1');
    expect(await runs.beginDelivery(runId, 3, claimOf('t3'))).toEqual({ terminal: true, status: 'running', stop: 'E_BUDGET', quotaUntil: until, claim: { taken: true } });
    expect(await runs.beginDelivery(runId, 4, { ...claimOf('t4'), identity: { ...identity, inputHash: 'h4' } })).toMatchObject({ terminal: false, stop: 'E_BUDGET', claim: { taken: true } });
    expect(await runs.beginDelivery('no-such-run', 0, { ...claimOf('t0'), identity: { ...identity, inputHash: 'h0' } })).toEqual({ terminal: false, claim: { taken: true } });
  });

  it('a record made with the delivery\'s claim frees it, only while the claim still holds that token', async () => {
    const prefix = `rs${randomBytes(3).toString('hex')}`;
    const runs = new RunStore(redis, prefix, 100);
    const runId = 'run-claim-record';
    await runs.createRun(config(runId));
    const identity = { markerUri: 'file:///out/S1/main.done.json', inputHash: 'h1' };
    const key = runs.claims.key(identity);
    expect((await runs.beginDelivery(runId, 0, { identity, token: 'mine', ttlMs: 10_000 })).claim).toEqual({ taken: true });
    const outcome = await runs.records.recordTerminal(runId, record(0), { key, token: 'mine' });
    expect(outcome).toMatchObject({ recorded: true });
    expect(await redis.exists(key)).toBe(0);
    expect((await runs.getMeta(runId))?.counts.succeeded).toBe(1);

    // The claim expired and somebody else took it: a late record must not free theirs.
    await runs.claims.take(identity, 'theirs', 10_000);
    const late = await runs.records.recordTerminal(runId, record(1), { key, token: 'mine' });
    expect(late).toMatchObject({ recorded: true });
    expect(await redis.get(key)).toBe('theirs');
    // A duplicate record still frees the delivery's own claim.
    await runs.claims.release(identity, 'theirs');
    await runs.claims.take(identity, 'again', 10_000);
    expect(await runs.records.recordTerminal(runId, record(0), { key, token: 'again' })).toMatchObject({ recorded: false });
    expect(await redis.exists(key)).toBe(0);
  });

  it('counts each item once, reports completion to exactly one caller, and keeps Redis records bounded', async () => {
    const prefix = `rs${randomBytes(3).toString('hex')}`;
    const runs = new RunStore(redis, prefix, 100);
    const store = new LocalObjectStore({ root: dir.path });
    const runId = 'run-a';
    await runs.createRun(config(runId));
    await expect(runs.createRun(config(runId))).rejects.toMatchObject({ code: 'E_CONFIG' });

    const total = 2500;
    let completions = 0;
    let maxInRedis = 0;
    for (let i = 0; i < total; i += 1) {
      if (i === 1000) expect(await runs.markPlanned(runId, total, 7)).toBe('planned');
      const status = i % 10 === 0 ? 'failed' : 'succeeded';
      const outcomes = await Promise.all([runs.records.recordTerminal(runId, record(i, status)), runs.records.recordTerminal(runId, record(i, 'cancelled'))]);
      expect(outcomes.filter((o) => o.recorded)).toHaveLength(1);
      for (const outcome of outcomes) {
        if (outcome.complete) completions += 1;
        if (outcome.recorded && runs.records.shouldFlush(outcome)) await runs.records.flush(runId, store);
      }
      maxInRedis = Math.max(maxInRedis, await redis.hlen(runKeys(prefix, runId).records));
    }
    expect(completions).toBe(1);
    expect(maxInRedis).toBeLessThanOrEqual(100);

    const meta = (await runs.getMeta(runId))!;
    expect(meta).toMatchObject({ terminal: total, total, rejected: 7, planned: true });
    expect(meta.counts).toEqual({ succeeded: 2250, failed: 250, skipped: 0, cancelled: 0 });
    expect(meta.costUsd).toBeCloseTo(2250 * 0.058, 6);
    expect(meta.segments).toBeGreaterThanOrEqual(24);

    const seen = new Map<number, string>();
    for await (const r of runs.records.read(runId, store)) {
      expect(seen.has(r.index)).toBe(false);
      seen.set(r.index, r.status);
    }
    expect(seen.size).toBe(total);
    expect(seen.get(10)).toBe('failed');
    expect(seen.get(11)).toBe('succeeded');

    await runs.releaseItemState(runId);
    const keys = runKeys(prefix, runId);
    expect(await redis.exists(keys.done, keys.records)).toBe(0);
    expect(await redis.ttl(keys.meta)).toBeGreaterThan(0);
  });

  it('reading records while another worker flushes them loses none', async () => {
    const runs = new RunStore(redis, `rs${randomBytes(3).toString('hex')}`, 1000);
    const local = new LocalObjectStore({ root: dir.path });
    const runId = 'run-race';
    await runs.createRun(config(runId));
    for (let i = 0; i < 3; i += 1) await runs.records.recordTerminal(runId, record(i));
    expect(await runs.records.flush(runId, local)).toBe(3); // segment 1: items 0-2
    for (let i = 3; i < 6; i += 1) await runs.records.recordTerminal(runId, record(i));
    // A store whose first read lets a concurrent flusher move items 3-5 to segment 2 mid-read.
    let interfered = false;
    const racing = Object.create(local) as LocalObjectStore;
    racing.get = async (key: string) => {
      if (!interfered) {
        interfered = true;
        expect(await runs.records.flush(runId, local)).toBe(3);
      }
      return local.get(key);
    };
    const indexes: number[] = [];
    for await (const r of runs.records.read(runId, racing)) indexes.push(r.index);
    expect(interfered).toBe(true);
    expect(indexes.sort()).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('a run whose items all finished before planning ended is completed by markPlanned', async () => {
    const runs = new RunStore(redis, `rs${randomBytes(3).toString('hex')}`);
    await runs.createRun(config('run-b'));
    for (let i = 0; i < 3; i += 1) expect((await runs.records.recordTerminal('run-b', record(i, 'skipped'))).complete).toBe(false);
    expect(await runs.markPlanned('run-b', 3, 0)).toBe('complete');
  });

  it('reserves budget atomically: concurrent reservations never exceed the limit', async () => {
    const runs = new RunStore(redis, `rs${randomBytes(3).toString('hex')}`);
    await runs.createRun(config('run-c'));
    const granted = await Promise.all(Array.from({ length: 50 }, (_, index) => runs.budget.reserve('run-c', 0.1, 1, index)));
    expect(granted.filter((answer) => answer === 'reserved')).toHaveLength(10);
    expect(granted.filter((answer) => answer === 'over-budget')).toHaveLength(40);
  });
});

async function until(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met within 10 s');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
