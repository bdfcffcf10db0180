import type { Redis } from 'ioredis';
import { whileLocked } from './while-locked.js';
import { BunchError } from '../errors/bunch-error.js';
import type { ErrorCode } from '../errors/error-code.js';
import type { ObjectStore } from '../storage/object-store.js';
import { ITEM_STATUSES, type ItemRecord, type ItemStatus } from './item-record.js';
import type { RunConfig, RunStatus } from './run-config.js';
import { planningRunsKey, runIndexKey, runKeys, runObjectKeys } from './run-keys.js';
import { RecordLog } from './record-log.js';
import { RunBatches } from './run-batches.js';
import { RunBudget } from './run-budget.js';
import { OutputClaims, type ClaimAttempt, type OutputIdentity } from './output-claims.js';
import {
  ACQUIRE_SLOT_LUA,
  BEGIN_DELIVERY_LUA,
  MARK_PLANNED_LUA,
  NEXT_SEGMENT_LUA,
  RECORD_STORED_SEGMENT_LUA,
  RECORD_TERMINAL_LUA,
  RELEASE_CLAIM_AND_RECORD_LUA,
  RECORD_SHARD_ITEM_LUA,
  RELEASE_SHARD_REST_LUA,
  COMMIT_TURN_LUA,
  SETTLE_CALL_LUA,
  FINISH_FINALIZE_LUA,
  RELEASE_LOCK_LUA,
  RENEW_CLAIM_LUA,
  RESERVE_BUDGET_LUA,
  REQUEST_STOP_LUA,
  HOLD_PLANNER_LEASE_LUA,
  ADOPT_ORPHAN_LUA,
  SETTLE_ADOPTED_LUA,
  RESERVE_SHARD_LUA,
  SETTLE_SHARD_LUA,
  TAKE_CLAIM_LUA,
  WRITE_SHARD_STATE_LUA,
  type RunScripts,
} from './run-scripts.js';

/**
 * Why a run was told to stop early: an operator's cancel (E_CANCELLED), a rejected API key
 * (E_AUTH), the budget (E_BUDGET), or the error that broke off its planning (e.g. E_CATALOG_FILE).
 */
export type StopReason = ErrorCode;

export interface RunControl {
  status?: RunStatus;
  stop?: StopReason;
  /** Epoch ms until which the run's quota is exhausted (see noteQuotaExhausted). */
  quotaUntil?: number;
}

export interface RunMeta {
  config: RunConfig;
  /** Until when (epoch ms) the run's planner holds its lease; renewed while it plans. */
  plannerUntil?: number;
  status: RunStatus;
  stop?: StopReason;
  planned: boolean;
  total?: number;
  rejected: number;
  terminal: number;
  counts: Record<ItemStatus, number>;
  lanes: Record<string, number>;
  errors: Partial<Record<ErrorCode, number>>;
  /** Retries by the code that caused them, and how often a 429 paused the whole queue. */
  retries: Partial<Record<ErrorCode, number>>;
  pauses: number;
  costUsd: number;
  /** Price of calls whose outcome is unknown (they may have been billed): cost + this is the upper bound. */
  uncertainUsd: number;
  promptTokens: number;
  outputTokens: number;
  segments: number;
  startedAt: string;
  plannedAt?: string;
  finishedAt?: string;
  /** Free-form run-level facts set by lanes (the lane `auto` chose, a planning error). */
  extra: Record<string, string>;
  /** Planned items still in storage: chunk files written and how many were queued (bounded Redis). */
  feed?: { next: number; chunks: number };
  /** Batch lane: shard name → its state as JSON (lanes/batch/shard-state.ts reads it). */
  shards: Record<string, string>;
}

/** How long a finalized run's meta (and shard states) stay for `status`. */
export const RETAIN_SECONDS = 30 * 24 * 3600;
/** The run index keeps runs started within twice the retention: a run's meta lives RETAIN_SECONDS after it ends, and runs rarely last longer than that. */
const INDEX_KEEP_MS = 2 * RETAIN_SECONDS * 1000;
/** A run's per-item state, dropped once its manifest is written. */
const ITEM_STATE_KEYS = ['done', 'records', 'flushLock', 'released', 'turnsPaid'] as const;
/**
 * Kept a while after (meta first): `status` reads the meta, and a shard may settle after its run
 * was finalized, giving back only what its items did not (its state and its shares ledger).
 */
const RETAINED_KEYS = ['meta', 'shards', 'shardReleased'] as const;
/** A finalizer's lock; renewed every third of it while it runs, so only a dead one's lapses. */
const FINALIZE_LOCK_MS = 2 * 60_000;

const KNOWN_META_FIELDS = new Set([
  'config', 'status', 'stop', 'planned', 'total', 'rejected', 'terminal', 'costUsd', 'reservedUsd', 'uncertainUsd', 'feedChunks', 'feedNext', 'pauses',
  'promptTokens', 'outputTokens', 'segments', 'startedAt', 'plannedAt', 'finishedAt', 'plannerUntil',
  'adopted', 'rejectedNoted', 'rejectedPartsNoted', 'settleSeen',
]);

/**
 * Run state in Redis. This class holds a run's meta and control (config, status, stop, planning,
 * release claims); its parts hold the rest, one concern each: `records` (the record log, the only
 * part that needs object storage), `budget`, `batches`. All keys are in run-keys.ts, all scripts
 * in run-scripts.ts (defined once per connection here). Invariant 3: Redis memory per run stays
 * bounded (a 1M-item run keeps ~125 KB of bitmap plus at most `flushThreshold` records).
 */
export class RunStore {
  private readonly redis: Redis & RunScripts;

  /** Terminal records, counted once, flushed to storage. */
  readonly records: RecordLog;
  /** Budget reservations and spend. */
  readonly budget: RunBudget;
  /** Batch-lane slots and shard state. */
  readonly batches: RunBatches;
  /** Per-output claims across runs: one model call at a time for one output (never pay twice). */
  readonly claims: OutputClaims;

  constructor(
    redis: Redis,
    readonly prefix: string,
    flushThreshold = 2000,
  ) {
    this.redis = redis as Redis & RunScripts;
    if (!(this.redis as Partial<RunScripts>).bunchRecordTerminal) {
      redis.defineCommand('bunchRecordTerminal', { numberOfKeys: 3, lua: RECORD_TERMINAL_LUA });
      redis.defineCommand('bunchMarkPlanned', { numberOfKeys: 1, lua: MARK_PLANNED_LUA });
      redis.defineCommand('bunchRecordStoredSegment', { numberOfKeys: 2, lua: RECORD_STORED_SEGMENT_LUA });
      redis.defineCommand('bunchNextSegment', { numberOfKeys: 1, lua: NEXT_SEGMENT_LUA });
      redis.defineCommand('bunchRequestStop', { numberOfKeys: 1, lua: REQUEST_STOP_LUA });
      redis.defineCommand('bunchHoldPlannerLease', { numberOfKeys: 1, lua: HOLD_PLANNER_LEASE_LUA });
      redis.defineCommand('bunchAdoptOrphan', { numberOfKeys: 1, lua: ADOPT_ORPHAN_LUA });
      redis.defineCommand('bunchSettleAdopted', { numberOfKeys: 1, lua: SETTLE_ADOPTED_LUA });
      redis.defineCommand('bunchReserveBudget', { numberOfKeys: 2, lua: RESERVE_BUDGET_LUA });
      redis.defineCommand('bunchAcquireSlot', { numberOfKeys: 1, lua: ACQUIRE_SLOT_LUA });
      redis.defineCommand('bunchSettleShard', { numberOfKeys: 4, lua: SETTLE_SHARD_LUA });
      redis.defineCommand('bunchReserveShard', { numberOfKeys: 2, lua: RESERVE_SHARD_LUA });
      redis.defineCommand('bunchWriteShardState', { numberOfKeys: 1, lua: WRITE_SHARD_STATE_LUA });
      redis.defineCommand('bunchReleaseLock', { numberOfKeys: 1, lua: RELEASE_LOCK_LUA });
      redis.defineCommand('bunchTakeClaim', { numberOfKeys: 1, lua: TAKE_CLAIM_LUA });
      redis.defineCommand('bunchRenewClaim', { numberOfKeys: 1, lua: RENEW_CLAIM_LUA });
      redis.defineCommand('bunchBeginDelivery', { numberOfKeys: 3, lua: BEGIN_DELIVERY_LUA });
      redis.defineCommand('bunchReleaseClaimAndRecord', { numberOfKeys: 4, lua: RELEASE_CLAIM_AND_RECORD_LUA });
      redis.defineCommand('bunchRecordShardItem', { numberOfKeys: 5, lua: RECORD_SHARD_ITEM_LUA });
      redis.defineCommand('bunchReleaseShardRest', { numberOfKeys: 3, lua: RELEASE_SHARD_REST_LUA });
      redis.defineCommand('bunchCommitTurn', { numberOfKeys: 4, lua: COMMIT_TURN_LUA });
      redis.defineCommand('bunchSettleCall', { numberOfKeys: 1, lua: SETTLE_CALL_LUA });
      redis.defineCommand('bunchFinishFinalize', { numberOfKeys: 1 + ITEM_STATE_KEYS.length + RETAINED_KEYS.length, lua: FINISH_FINALIZE_LUA });
    }
    const keysOf = (runId: string) => this.keys(runId);
    this.records = new RecordLog(this.redis, keysOf, flushThreshold);
    this.budget = new RunBudget(this.redis, keysOf);
    this.batches = new RunBatches(this.redis, keysOf);
    this.claims = new OutputClaims(this.redis, prefix);
  }

  keys(runId: string) {
    return runKeys(this.prefix, runId);
  }

  /**
   * Creates the run, `planning`, with its planner's lease until `plannerUntilMs` (see
   * holdPlannerLease): a planner that dies before its first renewal is still told from a live one.
   */
  async createRun(config: RunConfig, plannerUntilMs?: number): Promise<void> {
    const keys = this.keys(config.runId);
    const created = await this.redis.hsetnx(keys.meta, 'config', JSON.stringify(config));
    if (created !== 1) throw new BunchError('E_CONFIG', `run ${config.runId} already exists`);
    const lease = plannerUntilMs === undefined ? [] : ['plannerUntil', String(Math.round(plannerUntilMs))];
    await this.redis
      .multi()
      .hset(keys.meta, 'status', 'planning', 'startedAt', config.createdAt, 'terminal', '0', ...lease)
      .zadd(runIndexKey(this.prefix), Date.parse(config.createdAt), config.runId)
      // Looked at by the fleet's sweep until planned: a run whose planner dies is ended there.
      .sadd(planningRunsKey(this.prefix), config.runId)
      // Entries of runs Redis has long let go of (meta kept RETAIN_SECONDS after a run ends): the
      // index would otherwise grow by one per run forever, and the overlap check pages through it.
      .zremrangebyscore(runIndexKey(this.prefix), '-inf', `(${Date.parse(config.createdAt) - INDEX_KEEP_MS}`)
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
    const retries: Partial<Record<ErrorCode, number>> = {};
    const lanes: Record<string, number> = {};
    const extra: Record<string, string> = {};
    for (const [name, value] of Object.entries(fields)) {
      if (name.startsWith('err:')) errors[name.slice(4) as ErrorCode] = Number(value);
      else if (name.startsWith('retry:')) retries[name.slice(6) as ErrorCode] = Number(value);
      else if (name.startsWith('lane:')) lanes[name.slice(5)] = Number(value);
      else if (!name.startsWith('n:') && !name.startsWith('held:') && !KNOWN_META_FIELDS.has(name)) extra[name] = value;
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
      retries,
      pauses: number('pauses'),
      costUsd: number('costUsd'),
      uncertainUsd: number('uncertainUsd'),
      promptTokens: number('promptTokens'),
      outputTokens: number('outputTokens'),
      segments: number('segments'),
      startedAt: fields.startedAt ?? '',
      extra,
      shards,
    };
    if (fields.stop) meta.stop = fields.stop as StopReason;
    if (fields.feedChunks) meta.feed = { next: Number(fields.feedNext ?? 0), chunks: Number(fields.feedChunks) };
    if (fields.total !== undefined) meta.total = Number(fields.total);
    if (fields.plannedAt) meta.plannedAt = fields.plannedAt;
    if (fields.plannerUntil) meta.plannerUntil = Number(fields.plannerUntil);
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
   * First stop reason wins: a cancel after an auth failure does not hide the auth failure. True
   * when this call set it; a run that has ended (or is being finalized), or is gone, takes none.
   */
  async requestStop(runId: string, reason: StopReason): Promise<boolean> {
    return (await this.redis.bunchRequestStop(this.keys(runId).meta, reason)) === 1;
  }

  /** What a worker checks before each item, in one round trip. */
  async getControl(runId: string): Promise<RunControl> {
    const [status, stop, quotaUntil] = await this.redis.hmget(this.keys(runId).meta, 'status', 'stop', 'quotaUntil');
    return controlOf(status ?? null, stop ?? null, quotaUntil ?? null);
  }

  /**
   * Everything a sync delivery needs before it may call, in one round trip: whether the item is
   * terminal already, the run's control fields, and the output claim (taken when free; a delivery
   * that ends early gives it back).
   */
  async beginDelivery(
    runId: string,
    index: number,
    claim: { identity: OutputIdentity; token: string; ttlMs: number },
  ): Promise<RunControl & { terminal: boolean; claim: ClaimAttempt }> {
    const keys = this.keys(runId);
    const [bit, status, stop, quotaUntil, taken, holder, ttl] = await this.redis.bunchBeginDelivery(
      keys.meta,
      keys.done,
      this.claims.key(claim.identity),
      String(index),
      claim.token,
      String(Math.ceil(claim.ttlMs)),
    );
    return {
      terminal: bit === 1,
      ...controlOf(status, stop, quotaUntil),
      claim: taken === 1 ? { taken: true } : { taken: false, holder, ttlMs: Math.max(0, ttl) },
    };
  }

  /** Planned items waiting in storage (sync/planned-feed.ts): chunks written, and the next to queue. */
  async setFeedChunks(runId: string, chunks: number): Promise<void> {
    await this.redis.hset(this.keys(runId).meta, 'feedChunks', String(chunks), 'feedNext', '0');
  }

  async feedProgress(runId: string): Promise<{ next: number; chunks: number }> {
    const [next, chunks] = await this.redis.hmget(this.keys(runId).meta, 'feedNext', 'feedChunks');
    return { next: Number(next ?? 0), chunks: Number(chunks ?? 0) };
  }

  async setFeedNext(runId: string, next: number): Promise<void> {
    await this.redis.hset(this.keys(runId).meta, 'feedNext', String(next));
  }

  /**
   * Counts a retry of an item by its code (what `status --watch` shows); a queue-wide pause (a
   * 429 with a wait) is counted too. One HINCRBY: retries are rare next to items.
   */
  async noteRetry(runId: string, code: ErrorCode, pausedQueue = false): Promise<void> {
    const multi = this.redis.multi().hincrby(this.keys(runId).meta, `retry:${code}`, 1);
    if (pausedQueue) multi.hincrby(this.keys(runId).meta, 'pauses', 1);
    await multi.exec();
  }

  /** The upstream quota is gone until `untilMs` (a long RetryInfo): items wait instead of calling. */
  async noteQuotaExhausted(runId: string, untilMs: number): Promise<void> {
    await this.redis.hset(this.keys(runId).meta, 'quotaUntil', new Date(untilMs).toISOString());
  }

  /**
   * True when every item is terminal and the run is not finalized: the one request to finalize was
   * lost (a worker died between recording and requesting it), or a finalize job failed for good
   * (storage down through all its attempts) and left the run `finalizing`. Callers request it
   * again; a request while a finalize job is pending changes nothing.
   */
  async needsFinalize(runId: string): Promise<boolean> {
    const [planned, total, terminal, status] = await this.redis.hmget(this.keys(runId).meta, 'planned', 'total', 'terminal', 'status');
    return planned === '1' && (status === 'running' || status === 'finalizing') && total !== null && Number(terminal) >= Number(total);
  }

  /**
   * Runs `work` as the run's only finalizer (a lock renewed while it runs; `lost` aborts should it
   * be lost), or answers undefined without running it while another finalizer holds the lock: a
   * finalize job BullMQ redelivered while its first delivery runs on must not write the manifest
   * at the same time, nor after the first released the run's records.
   */
  whileFinalizing<T>(runId: string, work: (lost: AbortSignal, token: string) => Promise<T>): Promise<T | undefined> {
    return whileLocked(this.redis, this.keys(runId).finalizeLock, FINALIZE_LOCK_MS, work);
  }

  /**
   * Finalizing's last step (FINISH_FINALIZE_LUA), only while `token` still holds the finalize lock:
   * the final status set and the item state released as releaseItemState does. False when the
   * lock is someone else's (nothing changed).
   */
  async finishFinalizing(runId: string, token: string, status: RunStatus, finishedAt: string, retainSeconds = RETAIN_SECONDS): Promise<boolean> {
    const keys = this.keys(runId);
    const dropped = ITEM_STATE_KEYS.map((name) => keys[name]);
    const kept = RETAINED_KEYS.map((name) => keys[name]);
    const done = await this.redis.bunchFinishFinalize(keys.finalizeLock, ...dropped, ...kept, token, status, finishedAt, String(retainSeconds), String(dropped.length));
    return done === 1;
  }

  /**
   * Holds (or renews) the planner's lease on a run being planned until `untilMs`; false once the
   * run is planned or gone. See plannerGone.
   */
  async holdPlannerLease(runId: string, untilMs: number): Promise<boolean> {
    return (await this.redis.bunchHoldPlannerLease(this.keys(runId).meta, String(Math.round(untilMs)))) === 1;
  }

  /**
   * Marks the run planned with its total: `complete` when every item is terminal already (the
   * caller finalizes), `taken-over` when a fleet adopted the run (its planner's lease had lapsed:
   * adoptOrphan) and nothing changed, else `planned`.
   */
  async markPlanned(runId: string, total: number, rejected: number): Promise<'planned' | 'complete' | 'taken-over'> {
    const reply = await this.redis.bunchMarkPlanned(this.keys(runId).meta, String(total), String(rejected));
    if (reply === 2) return 'taken-over';
    await this.redis.multi().hset(this.keys(runId).meta, 'plannedAt', new Date().toISOString()).srem(planningRunsKey(this.prefix), runId).exec();
    return reply === 1 ? 'complete' : 'planned';
  }

  /**
   * The rejected rows written out so far (whole parts): what an adopted run lists, should its
   * planner die before it writes the rest.
   */
  async noteRejectedParts(runId: string, lines: number, parts: number): Promise<void> {
    await this.redis.hset(this.keys(runId).meta, 'rejectedNoted', String(lines), 'rejectedPartsNoted', String(parts));
  }

  /** Runs created and not yet planned (or not yet looked at since). */
  async planningRuns(): Promise<string[]> {
    return this.redis.smembers(planningRunsKey(this.prefix));
  }

  /** Takes a run off the planning list (planned, settled or gone). */
  async forgetPlanning(runId: string): Promise<void> {
    await this.redis.srem(planningRunsKey(this.prefix), runId);
  }

  /**
   * Takes over a run whose planner's lease lapsed before `nowMs` (ADOPT_ORPHAN_LUA): `gone` (no
   * such run, or planned), `alive` (its planner still holds the lease), `adopted` (now: the run is
   * stopped `E_PLANNER_GONE`), or `settling` (adopted earlier, its total not settled yet).
   */
  async adoptOrphan(runId: string, nowMs: number, note: string): Promise<'gone' | 'alive' | 'adopted' | 'settling'> {
    const reply = await this.redis.bunchAdoptOrphan(this.keys(runId).meta, String(nowMs), 'E_PLANNER_GONE', note);
    if (reply === -1) return 'gone';
    if (reply === 0) return 'alive';
    return reply === 1 ? 'adopted' : 'settling';
  }

  /**
   * Since when an adopted run has had no work left: `nowMs` is kept as that moment if none was
   * kept; undefined forgets it (work showed up again) and answers undefined.
   */
  async quietSince(runId: string, nowMs: number | undefined): Promise<number | undefined> {
    const key = this.keys(runId).meta;
    if (nowMs === undefined) {
      await this.redis.hdel(key, 'settleSeen');
      return undefined;
    }
    await this.redis.hsetnx(key, 'settleSeen', String(nowMs));
    return Number(await this.redis.hget(key, 'settleSeen'));
  }

  /** Settles an adopted run's total at what was recorded (SETTLE_ADOPTED_LUA); true when it did (finalize it). */
  async settleAdopted(runId: string): Promise<boolean> {
    const settled = (await this.redis.bunchSettleAdopted(this.keys(runId).meta)) === 1;
    if (settled) await this.redis.multi().hset(this.keys(runId).meta, 'plannedAt', new Date().toISOString()).srem(planningRunsKey(this.prefix), runId).exec();
    return settled;
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

  /** Notes that a hero's dependants were all recorded or handed to their lane (releaseDependants). */
  async markReleased(runId: string, heroIndex: number): Promise<void> {
    await this.redis.hset(this.keys(runId).released, `${heroIndex}:done`, '1');
  }

  /** Who claimed the release of a hero's dependants, if anyone has, and whether it was finished. */
  async releaseState(runId: string, heroIndex: number): Promise<{ owner: string | undefined; finished: boolean }> {
    const [owner, finished] = await this.redis.hmget(this.keys(runId).released, String(heroIndex), `${heroIndex}:done`);
    return { owner: owner ?? undefined, finished: finished === '1' };
  }

  /** After the manifest is written: drop per-item state, keep the small meta hash for `status`. */
  async releaseItemState(runId: string, retainSeconds = RETAIN_SECONDS): Promise<void> {
    const keys = this.keys(runId);
    const multi = this.redis.multi().del(...ITEM_STATE_KEYS.map((name) => keys[name]));
    for (const name of RETAINED_KEYS) multi.expire(keys[name], retainSeconds);
    await multi.exec();
  }

  /** Run ids, newest first: `limit` of them after skipping `offset`. */
  async listRuns(limit = 20, offset = 0): Promise<string[]> {
    return this.redis.zrevrange(runIndexKey(this.prefix), offset, offset + limit - 1);
  }
}

function controlOf(status: string | null, stop: string | null, quotaUntil: string | null): RunControl {
  const control: RunControl = {};
  if (status) control.status = status as RunStatus;
  if (stop) control.stop = stop as StopReason;
  if (quotaUntil && Number.isFinite(Date.parse(quotaUntil))) control.quotaUntil = Date.parse(quotaUntil);
  return control;
}

/**
 * A run whose planning stopped with its planner (the process died): not planned, and the lease
 * the planner renews while it plans has lapsed. The worker fleet ends such a run
 * (adopt-orphaned-runs.ts); it must not count as an active run of its job meanwhile (a
 * schedule's overlap rule).
 */
export function plannerGone(meta: Pick<RunMeta, 'planned' | 'plannerUntil' | 'status'>, nowMs: number): boolean {
  return !meta.planned && (meta.status === 'running' || meta.status === 'planning') && meta.plannerUntil !== undefined && meta.plannerUntil < nowMs;
}
