import type { Redis } from 'ioredis';
import type { RunKeys } from './run-keys.js';
import type { ShardShare } from './record-log.js';
import type { RunScripts } from './run-scripts.js';

/**
 * A run's budget: reservations taken atomically before money is committed (a Lua script, so
 * concurrent workers never overshoot `budget.maxUsd`), turned into spend or given back.
 */
export class RunBudget {
  constructor(
    private readonly redis: Redis & RunScripts,
    private readonly keys: (runId: string) => RunKeys,
  ) {}

  async reserve(runId: string, amountUsd: number, limitUsd: number): Promise<boolean> {
    return (await this.redis.bunchReserveBudget(this.keys(runId).meta, String(amountUsd), String(limitUsd))) === 1;
  }

  /** Adds a paid call's cost to the run outside an item record, turning its reservation into spend. */
  async commit(runId: string, amountUsd: number, reservedUsd: number): Promise<void> {
    const multi = this.redis.multi().hincrbyfloat(this.keys(runId).meta, 'costUsd', String(amountUsd));
    if (reservedUsd) multi.hincrbyfloat(this.keys(runId).meta, 'reservedUsd', String(-reservedUsd));
    await multi.exec();
  }

  /**
   * Adds what a turn before the last of an item's multi-turn edit cost, once per item and turn
   * (COMMIT_TURN_LUA): a result file collected again after a crash does not count it twice. With
   * `share`, the item's share of its shard's reservation is given back in the same step.
   */
  async commitTurn(runId: string, turn: { index: number; turn: number }, amountUsd: number, share?: ShardShare): Promise<boolean> {
    const keys = this.keys(runId);
    const counted = await this.redis.bunchCommitTurn(
      keys.meta,
      keys.turnsPaid,
      keys.shards,
      keys.shardReleased,
      `${turn.index}:${turn.turn}`,
      String(amountUsd),
      share?.shard ?? '',
      String(share?.amountUsd ?? 0),
    );
    return counted === 1;
  }

  /**
   * A call whose outcome is unknown (timeout, dropped connection, cut-off answer) may have been
   * billed: its price moves from reserved to `uncertainUsd`, which the budget counts as spent and
   * the summary reports as the gap between cost and its upper bound.
   */
  async holdUncertain(runId: string, amountUsd: number, reservedUsd: number): Promise<void> {
    const multi = this.redis.multi().hincrbyfloat(this.keys(runId).meta, 'uncertainUsd', String(amountUsd));
    if (reservedUsd) multi.hincrbyfloat(this.keys(runId).meta, 'reservedUsd', String(-reservedUsd));
    await multi.exec();
  }

  async release(runId: string, amountUsd: number): Promise<void> {
    await this.redis.hincrbyfloat(this.keys(runId).meta, 'reservedUsd', String(-amountUsd));
  }
}
