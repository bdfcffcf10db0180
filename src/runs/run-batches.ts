import type { Redis } from 'ioredis';
import type { RunKeys } from './run-keys.js';
import type { RunScripts } from './run-scripts.js';

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
   * Writes a shard's final state, frees its slot and gives back `releaseUsd` of reserved budget,
   * atomically and only while the stored state is not `done` yet. False when it was: someone
   * settled it first and nothing changed.
   */
  async settle(runId: string, shard: string, json: string, releaseUsd: number): Promise<boolean> {
    const keys = this.keys(runId);
    return (await this.redis.bunchSettleShard(keys.meta, keys.shards, keys.batches, shard, json, String(releaseUsd))) === 1;
  }

  async getState(runId: string, shard: string): Promise<string | undefined> {
    return (await this.redis.hget(this.keys(runId).shards, shard)) ?? undefined;
  }

  /** Writes a shard's first state; false when it has one already (left as it is). */
  async createState(runId: string, shard: string, json: string): Promise<boolean> {
    return (await this.redis.hsetnx(this.keys(runId).shards, shard, json)) === 1;
  }

  /** Writes a shard's state unless it is done already (done is final): false when it was. */
  async setState(runId: string, shard: string, json: string): Promise<boolean> {
    return (await this.redis.bunchWriteShardState(this.keys(runId).shards, shard, json)) === 1;
  }
}
