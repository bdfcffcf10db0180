import type { Redis } from 'ioredis';
import { BunchError } from '../errors/bunch-error.js';
import type { ErrorCode } from '../errors/error-code.js';
import type { ObjectStore } from '../storage/object-store.js';
import { ITEM_STATUSES, type ItemRecord, type ItemStatus } from './item-record.js';
import type { RunConfig, RunStatus } from './run-config.js';
import { runIndexKey, runKeys, runObjectKeys } from './run-keys.js';
import { ACQUIRE_SLOT_LUA, MARK_PLANNED_LUA, RECORD_TERMINAL_LUA, RELEASE_LOCK_LUA, RESERVE_BUDGET_LUA } from './run-scripts.js';

/**
 * Why a run was told to stop early: an operator's cancel (E_CANCELLED), a rejected API key
 * (E_AUTH), the budget (E_BUDGET), or the error that broke off its planning (e.g. E_CATALOG_FILE).
 */
export type StopReason = ErrorCode;

export interface RunMeta {
  config: RunConfig;
  status: RunStatus;
  stop?: StopReason;
  planned: boolean;
  total?: number;
  rejected: number;
  terminal: number;
  counts: Record<ItemStatus, number>;
  lanes: Record<string, number>;
  errors: Partial<Record<ErrorCode, number>>;
  costUsd: number;
  promptTokens: number;
  outputTokens: number;
  segments: number;
  startedAt: string;
  plannedAt?: string;
  finishedAt?: string;
  /** Free-form run-level facts set by lanes (the lane `auto` chose, a planning error). */
  extra: Record<string, string>;
  /** Batch lane: shard name → its state as JSON (lanes/batch/shard-state.ts reads it). */
  shards: Record<string, string>;
}

export interface RecordOutcome {
  /** False when the item already had a terminal record (a duplicate delivery). */
  recorded: boolean;
  /** True for exactly one caller: the one whose record completed the run. */
  complete: boolean;
  recordsInRedis: number;
}

type RunScripts = {
  bunchRecordTerminal(meta: string, done: string, records: string, ...args: string[]): Promise<[number, number, number]>;
  bunchMarkPlanned(meta: string, total: string, rejected: string): Promise<number>;
  bunchReserveBudget(meta: string, amount: string, limit: string): Promise<number>;
  bunchAcquireSlot(batches: string, shard: string, limit: string): Promise<number>;
  bunchReleaseLock(lock: string, token: string): Promise<number>;
};

const KNOWN_META_FIELDS = new Set([
  'config', 'status', 'stop', 'planned', 'total', 'rejected', 'terminal', 'costUsd', 'reservedUsd',
  'promptTokens', 'outputTokens', 'segments', 'startedAt', 'plannedAt', 'finishedAt',
]);

/**
 * Run state in Redis: one small hash per run, a bitmap of finished items and a bounded hash of
 * finished-item records that is flushed to storage in segments (invariant 3: Redis memory per run
 * stays bounded; a 1M-item run keeps ~125 KB of bitmap plus at most `flushThreshold` records).
 */
export class RunStore {
  private readonly redis: Redis & RunScripts;

  constructor(
    redis: Redis,
    readonly prefix: string,
    private readonly flushThreshold = 2000,
  ) {
    this.redis = redis as Redis & RunScripts;
    if (!(this.redis as Partial<RunScripts>).bunchRecordTerminal) {
      redis.defineCommand('bunchRecordTerminal', { numberOfKeys: 3, lua: RECORD_TERMINAL_LUA });
      redis.defineCommand('bunchMarkPlanned', { numberOfKeys: 1, lua: MARK_PLANNED_LUA });
      redis.defineCommand('bunchReserveBudget', { numberOfKeys: 1, lua: RESERVE_BUDGET_LUA });
      redis.defineCommand('bunchAcquireSlot', { numberOfKeys: 1, lua: ACQUIRE_SLOT_LUA });
      redis.defineCommand('bunchReleaseLock', { numberOfKeys: 1, lua: RELEASE_LOCK_LUA });
    }
  }

  keys(runId: string) {
    return runKeys(this.prefix, runId);
  }

  async createRun(config: RunConfig): Promise<void> {
    const keys = this.keys(config.runId);
    const created = await this.redis.hsetnx(keys.meta, 'config', JSON.stringify(config));
    if (created !== 1) throw new BunchError('E_CONFIG', `run ${config.runId} already exists`);
    await this.redis
      .multi()
      .hset(keys.meta, 'status', 'planning', 'startedAt', config.createdAt, 'terminal', '0')
      .zadd(runIndexKey(this.prefix), Date.parse(config.createdAt), config.runId)
      .exec();
  }

  async getConfig(runId: string): Promise<RunConfig> {
    const text = await this.redis.hget(this.keys(runId).meta, 'config');
    if (!text) throw new BunchError('E_NOT_FOUND', `run ${runId} is not known to this Redis`);
    return JSON.parse(text) as RunConfig;
  }

  async getMeta(runId: string): Promise<RunMeta | undefined> {
    const keys = this.keys(runId);
    const [fields, shards] = await Promise.all([this.redis.hgetall(keys.meta), this.redis.hgetall(keys.shards)]);
    if (!fields.config) return undefined;
    const number = (name: string) => Number(fields[name] ?? 0);
    const counts = Object.fromEntries(ITEM_STATUSES.map((s) => [s, number(`n:${s}`)])) as Record<ItemStatus, number>;
    const errors: Partial<Record<ErrorCode, number>> = {};
    const lanes: Record<string, number> = {};
    const extra: Record<string, string> = {};
    for (const [name, value] of Object.entries(fields)) {
      if (name.startsWith('err:')) errors[name.slice(4) as ErrorCode] = Number(value);
      else if (name.startsWith('lane:')) lanes[name.slice(5)] = Number(value);
      else if (!name.startsWith('n:') && !KNOWN_META_FIELDS.has(name)) extra[name] = value;
    }
    const meta: RunMeta = {
      config: JSON.parse(fields.config) as RunConfig,
      status: (fields.status ?? 'planning') as RunStatus,
      planned: fields.planned === '1',
      rejected: number('rejected'),
      terminal: number('terminal'),
      counts,
      lanes,
      errors,
      costUsd: number('costUsd'),
      promptTokens: number('promptTokens'),
      outputTokens: number('outputTokens'),
      segments: number('segments'),
      startedAt: fields.startedAt ?? '',
      extra,
      shards,
    };
    if (fields.stop) meta.stop = fields.stop as StopReason;
    if (fields.total !== undefined) meta.total = Number(fields.total);
    if (fields.plannedAt) meta.plannedAt = fields.plannedAt;
    if (fields.finishedAt) meta.finishedAt = fields.finishedAt;
    return meta;
  }

  async setStatus(runId: string, status: RunStatus, fields: Record<string, string> = {}): Promise<void> {
    await this.redis.hset(this.keys(runId).meta, { status, ...fields });
  }

  async setExtra(runId: string, name: string, value: string): Promise<void> {
    await this.redis.hset(this.keys(runId).meta, name, value);
  }

  async getExtra(runId: string, name: string): Promise<string | undefined> {
    return (await this.redis.hget(this.keys(runId).meta, name)) ?? undefined;
  }

  /**
   * Takes one of `limit` slots for a run's active upstream batches (the batch lane's own cap on
   * concurrent batches). Re-taking a slot the shard already holds succeeds; atomic in Redis.
   */
  async acquireBatchSlot(runId: string, shard: string, limit: number): Promise<boolean> {
    return (await this.redis.bunchAcquireSlot(this.keys(runId).batches, shard, String(limit))) === 1;
  }

  async releaseBatchSlot(runId: string, shard: string): Promise<void> {
    await this.redis.srem(this.keys(runId).batches, shard);
  }

  async getShardState(runId: string, shard: string): Promise<string | undefined> {
    return (await this.redis.hget(this.keys(runId).shards, shard)) ?? undefined;
  }

  async setShardState(runId: string, shard: string, json: string): Promise<void> {
    await this.redis.hset(this.keys(runId).shards, shard, json);
  }

  /** First stop reason wins: a cancel after an auth failure does not hide the auth failure. */
  async requestStop(runId: string, reason: StopReason): Promise<boolean> {
    return (await this.redis.hsetnx(this.keys(runId).meta, 'stop', reason)) === 1;
  }

  /** What a worker checks before each item, in one round trip. */
  async getControl(runId: string): Promise<{ status?: RunStatus; stop?: StopReason }> {
    const [status, stop] = await this.redis.hmget(this.keys(runId).meta, 'status', 'stop');
    const control: { status?: RunStatus; stop?: StopReason } = {};
    if (status) control.status = status as RunStatus;
    if (stop) control.stop = stop as StopReason;
    return control;
  }

  /** `releaseReservedUsd`: a budget reservation made for this item's call, released atomically. */
  async recordTerminal(runId: string, record: ItemRecord, releaseReservedUsd = 0): Promise<RecordOutcome> {
    const keys = this.keys(runId);
    const [terminal, complete, length] = await this.redis.bunchRecordTerminal(
      keys.meta,
      keys.done,
      keys.records,
      String(record.index),
      JSON.stringify(record),
      record.status,
      String(record.costUsd),
      record.errorCode ?? '',
      String(record.usage?.promptTokens ?? 0),
      String(record.usage?.outputTokens ?? 0),
      record.lane,
      String(releaseReservedUsd),
    );
    return { recorded: terminal !== -1, complete: complete === 1, recordsInRedis: length };
  }

  /**
   * True when every item is terminal but no finalizer has started: the one request to finalize
   * was lost (a worker died between recording and requesting it). Callers request it again.
   */
  async needsFinalize(runId: string): Promise<boolean> {
    const [planned, total, terminal, status] = await this.redis.hmget(this.keys(runId).meta, 'planned', 'total', 'terminal', 'status');
    return planned === '1' && status === 'running' && total !== null && Number(terminal) >= Number(total);
  }

  async isTerminal(runId: string, index: number): Promise<boolean> {
    return (await this.redis.getbit(this.keys(runId).done, index)) === 1;
  }

  /** Returns true when every item is already terminal, so the caller must finalize. */
  async markPlanned(runId: string, total: number, rejected: number): Promise<boolean> {
    const complete = await this.redis.bunchMarkPlanned(this.keys(runId).meta, String(total), String(rejected));
    await this.redis.hset(this.keys(runId).meta, 'plannedAt', new Date().toISOString());
    return complete === 1;
  }

  async reserveBudget(runId: string, amountUsd: number, limitUsd: number): Promise<boolean> {
    return (await this.redis.bunchReserveBudget(this.keys(runId).meta, String(amountUsd), String(limitUsd))) === 1;
  }

  /** Adds a paid call's cost to the run outside an item record, turning its reservation into spend. */
  async commitCost(runId: string, amountUsd: number, reservedUsd: number): Promise<void> {
    const multi = this.redis.multi().hincrbyfloat(this.keys(runId).meta, 'costUsd', String(amountUsd));
    if (reservedUsd) multi.hincrbyfloat(this.keys(runId).meta, 'reservedUsd', String(-reservedUsd));
    await multi.exec();
  }

  async releaseBudget(runId: string, amountUsd: number): Promise<void> {
    await this.redis.hincrbyfloat(this.keys(runId).meta, 'reservedUsd', String(-amountUsd));
  }

  shouldFlush(outcome: RecordOutcome): boolean {
    return outcome.recordsInRedis >= this.flushThreshold;
  }

  /**
   * Moves finished-item records from Redis to `runs/<id>/records/<seq>.jsonl`. One flusher at a
   * time per run (a lock with TTL). The segment is written before the fields are deleted, so a
   * crash in between duplicates records (the finalizer de-duplicates by index) but never loses one.
   */
  async flushRecords(runId: string, store: ObjectStore, options: { all?: boolean } = {}): Promise<number> {
    const keys = this.keys(runId);
    const token = `${process.pid}-${Date.now()}-${Math.random()}`;
    const locked = await this.redis.set(keys.flushLock, token, 'PX', 120_000, 'NX');
    if (locked !== 'OK') return 0;
    let moved = 0;
    try {
      do {
        const entries = await this.takeRecordBatch(keys.records, this.flushThreshold);
        if (entries.length === 0) break;
        const seq = await this.redis.hincrby(keys.meta, 'segments', 1);
        const body = entries.map(([, json]) => json).join('\n') + '\n';
        await store.put(runObjectKeys(runId).segment(seq), body, { contentType: 'application/x-ndjson' });
        await this.redis.hdel(keys.records, ...entries.map(([field]) => field));
        moved += entries.length;
      } while (options.all);
    } finally {
      // Delete the lock only if it is still ours (it may have expired and been taken over).
      await this.redis.bunchReleaseLock(keys.flushLock, token);
    }
    return moved;
  }

  private async takeRecordBatch(key: string, limit: number): Promise<[string, string][]> {
    const entries: [string, string][] = [];
    let cursor = '0';
    do {
      const [next, flat] = await this.redis.hscan(key, cursor, 'COUNT', Math.min(limit, 1000));
      for (let i = 0; i + 1 < flat.length && entries.length < limit; i += 2) {
        entries.push([flat[i] as string, flat[i + 1] as string]);
      }
      cursor = next;
    } while (cursor !== '0' && entries.length < limit);
    return entries;
  }

  /**
   * Every finished-item record of a run, each index once. Redis is scanned first, then the
   * segment count is read again: a flush writes its segment before it deletes the records from
   * Redis, so a record moved by a flush running at the same time is in one place or the other
   * (or both — de-duplicated by index), never in neither. Memory: the records still in Redis
   * (at most the flush threshold), one segment at a time, and a bitmap of seen indexes.
   */
  async *readRecords(runId: string, store: ObjectStore): AsyncGenerator<ItemRecord> {
    const seen = new IndexSet();
    const inRedis: ItemRecord[] = [];
    let cursor = '0';
    do {
      const [next, flat] = await this.redis.hscan(this.keys(runId).records, cursor, 'COUNT', 1000);
      for (let i = 1; i < flat.length; i += 2) inRedis.push(JSON.parse(flat[i] as string) as ItemRecord);
      cursor = next;
    } while (cursor !== '0');
    for (const record of inRedis) if (seen.add(record.index)) yield record;

    const meta = await this.getMeta(runId);
    if (!meta) throw new BunchError('E_NOT_FOUND', `run ${runId} is not known to this Redis`);
    const objects = runObjectKeys(runId);
    for (let seq = 1; seq <= meta.segments; seq += 1) {
      const body = await store.get(objects.segment(seq));
      if (!body) continue; // the segment write failed; its records were still in Redis
      for (const line of body.toString('utf8').split('\n')) {
        if (!line) continue;
        const record = JSON.parse(line) as ItemRecord;
        if (seen.add(record.index)) yield record;
      }
    }
  }

  /**
   * Claims the release of a hero's dependants (`from:` variants) for `owner`: the sync lane, a
   * batch shard, or planning. A hero can pass through several owners (a shard spills it to sync or
   * resubmits it), and each would otherwise release its dependants once more — and pay for them
   * twice. The first claim wins; the same owner may claim again (a redelivered job finishes its
   * own release: routing is idempotent per owner), any other owner is refused.
   */
  async claimRelease(runId: string, heroIndex: number, owner: string): Promise<boolean> {
    const key = this.keys(runId).released;
    if ((await this.redis.hsetnx(key, String(heroIndex), owner)) === 1) return true;
    return (await this.redis.hget(key, String(heroIndex))) === owner;
  }

  /** After the manifest is written: drop per-item state, keep the small meta hash for `status`. */
  async releaseItemState(runId: string, retainSeconds = 30 * 24 * 3600): Promise<void> {
    const keys = this.keys(runId);
    await this.redis
      .multi()
      .del(keys.done, keys.records, keys.flushLock, keys.released)
      .expire(keys.meta, retainSeconds)
      .expire(keys.shards, retainSeconds)
      .exec();
  }

  async listRuns(limit = 20): Promise<string[]> {
    return this.redis.zrevrange(runIndexKey(this.prefix), 0, limit - 1);
  }
}


/** A growable bitmap of item indexes. */
class IndexSet {
  private bits = new Uint8Array(1024);

  add(index: number): boolean {
    const byte = index >> 3;
    if (byte >= this.bits.length) {
      const grown = new Uint8Array(Math.max(byte + 1, this.bits.length * 2));
      grown.set(this.bits);
      this.bits = grown;
    }
    const mask = 1 << (index & 7);
    const current = this.bits[byte] ?? 0;
    if (current & mask) return false;
    this.bits[byte] = current | mask;
    return true;
  }
}
