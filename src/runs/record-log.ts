import type { Redis } from 'ioredis';
import { BunchError } from '../errors/bunch-error.js';
import type { ObjectStore } from '../storage/object-store.js';
import type { ItemRecord } from './item-record.js';
import { TERMINAL_RUN_STATUSES, type RunStatus } from './run-config.js';
import { runObjectKeys, type RunKeys } from './run-keys.js';
import type { RunScripts } from './run-scripts.js';

export interface RecordOutcome {
  /** False when the item already had a terminal record (a duplicate delivery). */
  recorded: boolean;
  /** True for exactly one caller: the one whose record completed the run. */
  complete: boolean;
  recordsInRedis: number;
  /** The run no longer exists in Redis (lost with a FLUSHALL or a restart without AOF): nothing was written. */
  runGone?: boolean;
}

/** An output claim to free together with a record: its key and the holder's token. */
export interface ClaimRelease {
  key: string;
  token: string;
}

/** An item's share of its batch shard's budget reservation, given back with its first record. */
export interface ShardShare {
  shard: string;
  amountUsd: number;
}

/**
 * The record log of a run: each item's terminal record, counted exactly once (a bitmap in Lua),
 * kept in a bounded Redis hash and flushed to `runs/<id>/records/*.jsonl` in storage — the only
 * part of run state that needs object storage. Invariant 1 (every item once) and 3 (bounded
 * Redis) live here.
 */
export class RecordLog {
  constructor(
    private readonly redis: Redis & RunScripts,
    private readonly keys: (runId: string) => RunKeys,
    private readonly flushThreshold: number,
  ) {}

  private readonly listeners: ((record: ItemRecord) => void)[] = [];

  /** Told of every record this process made that counted (the first for its item): metrics. */
  onRecorded(listener: (record: ItemRecord) => void): void {
    this.listeners.push(listener);
  }

  /**
   * Whatever budget is held for the item's call is given back in the same step (RECORD_TERMINAL_LUA).
   * `claim`: an output claim the delivery holds, freed in the same step (only while it is still
   * this token's); if the script never runs (Redis trouble) the claim expires on its own.
   */
  async recordTerminal(runId: string, record: ItemRecord, claim?: ClaimRelease): Promise<RecordOutcome> {
    const [meta, done, records, ...args] = this.scriptArgs(runId, record);
    const reply = claim
      ? await this.redis.bunchReleaseClaimAndRecord(meta, done, records, claim.key, ...args, claim.token)
      : await this.redis.bunchRecordTerminal(meta, done, records, ...args);
    return this.outcomeOf(record, reply);
  }

  /**
   * The record of an item its batch shard collected: the first one also gives back the item's
   * share of the shard's reservation (RECORD_SHARD_ITEM_LUA), so the budget never counts it both
   * reserved and spent while the rest of the batch is collected.
   */
  async recordShardItem(runId: string, record: ItemRecord, share: ShardShare): Promise<RecordOutcome> {
    const keys = this.keys(runId);
    const [meta, done, records, ...args] = this.scriptArgs(runId, record);
    const reply = await this.redis.bunchRecordShardItem(meta, done, records, keys.shards, keys.shardReleased, ...args, share.shard, String(share.amountUsd));
    return this.outcomeOf(record, reply);
  }

  /**
   * Many records in one round trip (a pipeline of the same script): planning records a chunk's
   * skips that carry a cost this way. Outcomes in the order given.
   */
  async recordTerminalMany(runId: string, records: readonly ItemRecord[]): Promise<RecordOutcome[]> {
    if (records.length === 0) return [];
    const pipeline = this.redis.pipeline() as unknown as RunScripts & { exec(): Promise<[Error | null, unknown][] | null> };
    for (const record of records) void pipeline.bunchRecordTerminal(...this.scriptArgs(runId, record));
    const answers = (await pipeline.exec()) ?? [];
    return records.map((record, i) => {
      const [error, reply] = answers[i] ?? [new Error('no reply from Redis')];
      if (error) throw error;
      return this.outcomeOf(record, reply as [number, number, number]);
    });
  }

  /** KEYS and ARGV of RECORD_TERMINAL_LUA for one record. */
  private scriptArgs(runId: string, record: ItemRecord): [string, string, string, ...string[]] {
    const keys = this.keys(runId);
    return [
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
    ];
  }

  private outcomeOf(record: ItemRecord, [terminal, complete, length]: [number, number, number]): RecordOutcome {
    if (terminal >= 0) for (const listener of this.listeners) listener(record);
    return { recorded: terminal >= 0, complete: complete === 1, recordsInRedis: length, ...(terminal === -2 ? { runGone: true } : {}) };
  }

  /**
   * Records written straight to a storage segment, then counted (planning's skips): no record
   * passes through Redis, which keeps only the bits and counters. The segment is written before
   * the bits are set, so a crash in between leaves records nobody counted (`read` passes over
   * records whose bit is not set) but never a counted item without its record. Only for records with nothing
   * to add to the run's cost, tokens or errors, all of one status and lane.
   */
  async recordInSegment(runId: string, store: ObjectStore, records: readonly ItemRecord[]): Promise<{ added: number; complete: boolean }> {
    const first = records[0];
    if (!first) return { added: 0, complete: false };
    for (const record of records) {
      if (record.status !== first.status || record.lane !== first.lane || record.costUsd !== 0 || record.errorCode !== undefined || record.usage !== undefined) {
        throw new BunchError('E_INTERNAL', `record ${record.itemKey} cannot be counted from a segment`);
      }
    }
    const keys = this.keys(runId);
    const seq = await this.redis.bunchNextSegment(keys.meta);
    if (seq === -2) throw new BunchError('E_NOT_FOUND', `run ${runId} is not known to this Redis`);
    const body = records.map((record) => JSON.stringify(record)).join('\n') + '\n';
    await store.put(runObjectKeys(runId).segment(seq), body, { contentType: 'application/x-ndjson' });
    const [added, complete] = await this.redis.bunchRecordStoredSegment(keys.meta, keys.done, first.status, first.lane, ...records.map((record) => String(record.index)));
    if (added === -2) throw new BunchError('E_NOT_FOUND', `run ${runId} is not known to this Redis`);
    if (added > 0) for (const record of records) for (const listener of this.listeners) listener(record);
    return { added, complete: complete === 1 };
  }

  async isTerminal(runId: string, index: number): Promise<boolean> {
    return (await this.redis.getbit(this.keys(runId).done, index)) === 1;
  }

  /** Which of these items already have a terminal record, in one round trip (a pipeline of GETBIT). */
  async terminalOf(runId: string, indexes: readonly number[]): Promise<Set<number>> {
    if (indexes.length === 0) return new Set();
    const done = this.keys(runId).done;
    const pipeline = this.redis.pipeline();
    for (const index of indexes) pipeline.getbit(done, index);
    const answers = (await pipeline.exec()) ?? [];
    const terminal = new Set<number>();
    answers.forEach(([error, bit], i) => {
      if (error) throw error;
      if (bit === 1) terminal.add(indexes[i] as number);
    });
    return terminal;
  }

  shouldFlush(outcome: RecordOutcome): boolean {
    return outcome.recordsInRedis >= this.flushThreshold;
  }

  /**
   * Moves finished-item records from Redis to `runs/<id>/records/<seq>.jsonl`. One flusher at a
   * time per run (a lock with TTL). The segment is written before the fields are deleted, so a
   * crash in between duplicates records (the finalizer de-duplicates by index) but never loses one.
   */
  async flush(runId: string, store: ObjectStore, options: { all?: boolean } = {}): Promise<number> {
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
  async *read(runId: string, store: ObjectStore): AsyncGenerator<ItemRecord> {
    const seen = new IndexSet();
    const inRedis: ItemRecord[] = [];
    let cursor = '0';
    do {
      const [next, flat] = await this.redis.hscan(this.keys(runId).records, cursor, 'COUNT', 1000);
      for (let i = 1; i < flat.length; i += 2) inRedis.push(JSON.parse(flat[i] as string) as ItemRecord);
      cursor = next;
    } while (cursor !== '0');
    for (const record of inRedis) if (seen.add(record.index)) yield record;

    const [config, segmentCount, status] = await this.redis.hmget(this.keys(runId).meta, 'config', 'segments', 'status');
    if (!config) throw new BunchError('E_NOT_FOUND', `run ${runId} is not known to this Redis`);
    // Planning writes its skips' segment before it counts them: one whose count never came
    // (planning broke off in between) holds records of items the run does not count. Only items
    // whose terminal bit is set are the run's (one read of the bitmap: 125 KB for a million items).
    // A finalized run has no bitmap left (its segments were all counted by then); a run that has
    // not counted an item yet has none either, and every segment line of it is uncounted.
    const final = TERMINAL_RUN_STATUSES.includes(status as RunStatus);
    const done = final || Number(segmentCount ?? 0) === 0 ? undefined : ((await this.redis.getBuffer(this.keys(runId).done)) ?? Buffer.alloc(0));
    const objects = runObjectKeys(runId);
    for (let seq = 1; seq <= Number(segmentCount ?? 0); seq += 1) {
      const body = await store.get(objects.segment(seq));
      if (!body) continue; // the segment write failed; its records were still in Redis
      for (const line of body.toString('utf8').split('\n')) {
        if (!line) continue;
        const record = JSON.parse(line) as ItemRecord;
        if (done && !bitIsSet(done, record.index)) continue;
        if (seen.add(record.index)) yield record;
      }
    }
  }
}

/** A Redis bitmap's bit (SETBIT numbers bits from the most significant of the first byte). */
function bitIsSet(bitmap: Buffer, index: number): boolean {
  const byte = index >> 3;
  return byte < bitmap.length && (((bitmap[byte] as number) >> (7 - (index & 7))) & 1) === 1;
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
