import type { Redis } from 'ioredis';
import type { RunKeys } from './run-keys.js';
import type { RunScripts } from './run-scripts.js';

/** What a shard's reservation came to (RunBatches.reserve). */
export type ShardReservation =
  | { kind: 'reserved' }
  /** The stored state holds a reservation already (another delivery of the same job made it). */
  | { kind: 'held'; amountUsd: number }
  | { kind: 'over-budget' }
  /** The shard is done (settled elsewhere): nothing reserved. */
  | { kind: 'settled' }
  /** The shard has no state (its run's keys are gone): nothing reserved. */
  | { kind: 'gone' };

/**
 * The batch lane's run state: slots for concurrently active upstream batches, and each shard's
 * state (JSON kept by lanes/batch/shard-state.ts), under the run's typed keys.
 */
export class RunBatches {
  constructor(
    private readonly redis: Redis & RunScripts,
    private readonly keys: (runId: string) => RunKeys,
  ) {}

  /**
   * Takes one of `limit` slots for a run's active upstream batches (the batch lane's own cap on
   * concurrent batches). Re-taking a slot the shard already holds succeeds; atomic in Redis.
   */
  async acquireSlot(runId: string, shard: string, limit: number): Promise<boolean> {
    return (await this.redis.bunchAcquireSlot(this.keys(runId).batches, shard, String(limit))) === 1;
  }

  /** Frees a shard's slot (a delivery leaving a shard that was settled elsewhere). */
  async releaseSlot(runId: string, shard: string): Promise<void> {
    await this.redis.srem(this.keys(runId).batches, shard);
  }

  /**
   * Writes a shard's final state, frees its slot and gives back the reservation the stored state
   * holds (less what its collected items gave back already), atomically and only while the stored state is not `done` yet. Returns the state it
   * replaced, or undefined when someone had settled it first (nothing changed).
   */
  async settle(runId: string, shard: string, json: string): Promise<string | undefined> {
    const keys = this.keys(runId);
    const [settled, replaced] = await this.redis.bunchSettleShard(keys.meta, keys.shards, keys.batches, keys.shardReleased, shard, json);
    return settled === 1 ? replaced : undefined;
  }

  /**
   * Gives back what is left of a collected shard's reservation (RELEASE_SHARD_REST_LUA) before its
   * unserved items move on and reserve their own. Returns the amount given back now.
   */
  async releaseRest(runId: string, shard: string): Promise<number> {
    const keys = this.keys(runId);
    return Number(await this.redis.bunchReleaseShardRest(keys.meta, keys.shards, keys.shardReleased, shard));
  }

  /**
   * Reserves `amountUsd` of the run's budget for a shard and writes `json` (its state holding the
   * reservation) in one step, once per shard: see RESERVE_SHARD_LUA.
   */
  async reserve(runId: string, shard: string, amountUsd: number, limitUsd: number, json: string): Promise<ShardReservation> {
    const keys = this.keys(runId);
    const [outcome, held] = await this.redis.bunchReserveShard(keys.meta, keys.shards, shard, String(amountUsd), String(limitUsd), json);
    if (outcome === 1) return { kind: 'reserved' };
    if (outcome === 2) return { kind: 'held', amountUsd: Number(held) };
    if (outcome === 3) return { kind: 'over-budget' };
    if (outcome === 4) return { kind: 'gone' };
    return { kind: 'settled' };
  }

  /**
   * Takes the lease on creating a shard's upstream batch for `ttlMs`: one delivery at a time looks
   * the batch up by name and creates it, so two deliveries of one job (BullMQ redelivers a job it
   * thinks stalled) cannot both create one. True when taken now or held by this token already.
   */
  async takeCreationLease(runId: string, shard: string, token: string, ttlMs: number): Promise<boolean> {
    const [taken, holder] = await this.redis.bunchTakeClaim(this.keys(runId).creating(shard), token, String(Math.ceil(ttlMs)));
    return taken === 1 || holder === token;
  }

  /** Renews the creation lease while this token still holds it; false when it does not. */
  async renewCreationLease(runId: string, shard: string, token: string, ttlMs: number): Promise<boolean> {
    return (await this.redis.bunchRenewClaim(this.keys(runId).creating(shard), token, String(Math.ceil(ttlMs)))) === 1;
  }

  /** Gives the creation lease back, if this token still holds it. */
  async releaseCreationLease(runId: string, shard: string, token: string): Promise<void> {
    await this.redis.bunchReleaseLock(this.keys(runId).creating(shard), token);
  }

  async getState(runId: string, shard: string): Promise<string | undefined> {
    return (await this.redis.hget(this.keys(runId).shards, shard)) ?? undefined;
  }

  /** Writes a shard's first state; false when it has one already (left as it is). */
  async createState(runId: string, shard: string, json: string): Promise<boolean> {
    return (await this.redis.hsetnx(this.keys(runId).shards, shard, json)) === 1;
  }

  /**
   * Writes a shard's state unless it is done already (done is final) or the write is behind the
   * stored state (an earlier phase, or a lost reservation): WRITE_SHARD_STATE_LUA.
   */
  async setState(runId: string, shard: string, json: string): Promise<'written' | 'done' | 'behind'> {
    const outcome = await this.redis.bunchWriteShardState(this.keys(runId).shards, shard, json);
    return outcome === 1 ? 'written' : outcome === 2 ? 'behind' : 'done';
  }
}
