import type { Redis } from 'ioredis';
import type { RunKeys } from './run-keys.js';
import type { ShardShare } from './record-log.js';
import type { RunScripts } from './run-scripts.js';

/**
 * A run's budget: reservations taken atomically before money is committed (a Lua script, so
 * concurrent workers never overshoot `budget.maxUsd`), turned into spend or given back.
 */
export type BudgetReservation = 'reserved' | 'over-budget' | 'terminal';

export class RunBudget {
  constructor(
    private readonly redis: Redis & RunScripts,
    private readonly keys: (runId: string) => RunKeys,
  ) {}

  /**
   * Reserves `amountUsd` within `limitUsd` for a call of item `index`. The reservation is held for
   * that item's call, and given back by whatever ends the call: settleCall when it is retried, the
   * item's record otherwise — even when the delivery that reserved died. `terminal`: the item was
   * recorded (or its run finalized) since the caller looked — nothing is reserved, and the call
   * must not be made.
   */
  async reserve(runId: string, amountUsd: number, limitUsd: number, index: number): Promise<BudgetReservation> {
    const keys = this.keys(runId);
    const answer = await this.redis.bunchReserveBudget(keys.meta, keys.done, String(amountUsd), String(limitUsd), String(index));
    return answer === 1 ? 'reserved' : answer === 2 ? 'terminal' : 'over-budget';
  }

  /**
   * A call of item `index` that is retried: what was held for it is given back, and what it cost
   * (`costUsd`: an answer came, paid though unusable) or may have cost (`uncertainUsd`: its outcome
   * is unknown — the budget counts it as spent, the summary as the gap up to `costUpperBoundUsd`)
   * is added, in one step.
   */
  async settleCall(runId: string, index: number, spent: { costUsd?: number; uncertainUsd?: number }): Promise<void> {
    await this.redis.bunchSettleCall(this.keys(runId).meta, String(index), String(spent.costUsd ?? 0), String(spent.uncertainUsd ?? 0));
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
}
