/**
 * Redis key layout of run state. Every key of one run shares the `{runId}` hash tag so the Lua
 * scripts that touch several of them work on Redis Cluster too.
 *
 *   <p>:runs                      sorted set runId -> start time (for listing)
 *   <p>:runs:planning             set of runs created and not yet planned (a fleet ends those
 *                                 whose planner died: lanes/adopt-orphaned-runs.ts)
 *   <p>:given-up-sweep            string with TTL: the fleet process sweeping the failed sets now
 *   <p>:given-up-sweep:<queue>    JSON string: where that sweep stands in the queue's failed set
 *   <p>:run:{id}                  hash: config JSON, status, counters, cost, error counts;
 *                                 `held:<index>` -> the budget held for that item's sync call
 *   <p>:run:{id}:done             bitmap by item index: set once when the item turns terminal
 *   <p>:run:{id}:records          hash index -> ItemRecord JSON, until flushed to storage
 *   <p>:run:{id}:flush-lock       string with TTL: one flusher at a time
 *   <p>:run:{id}:finalize-lock    string with TTL: one finalizer at a time
 *   <p>:run:{id}:batches          set of shards holding an upstream batch slot (batch lane)
 *   <p>:run:{id}:released         hash hero index -> owner that releases its dependants (`from:`);
 *                                 `<index>:done` -> 1 once that release has finished
 *   <p>:run:{id}:shards           hash shard name -> BatchShardState JSON (batch lane)
 *   <p>:run:{id}:shard-released   hash shard name -> the part of its budget reservation its
 *                                 items gave back before it settled (expires with the run's meta)
 *   <p>:run:{id}:turns-paid       hash '<index>:<turn>' -> cost of a multi-turn edit's turn before
 *                                 the last, counted once (batch lane)
 *   <p>:run:{id}:creating:<shard> string with TTL: the delivery creating that shard's batch now
 */
export interface RunKeys {
  meta: string;
  done: string;
  records: string;
  flushLock: string;
  finalizeLock: string;
  batches: string;
  released: string;
  shards: string;
  shardReleased: string;
  turnsPaid: string;
  creating(shard: string): string;
}

export function runKeys(prefix: string, runId: string): RunKeys {
  const base = `${prefix}:run:{${runId}}`;
  return {
    meta: base,
    done: `${base}:done`,
    records: `${base}:records`,
    flushLock: `${base}:flush-lock`,
    finalizeLock: `${base}:finalize-lock`,
    batches: `${base}:batches`,
    released: `${base}:released`,
    shards: `${base}:shards`,
    shardReleased: `${base}:shard-released`,
    turnsPaid: `${base}:turns-paid`,
    creating: (shard) => `${base}:creating:${shard}`,
  };
}

export function runIndexKey(prefix: string): string {
  return `${prefix}:runs`;
}

export function planningRunsKey(prefix: string): string {
  return `${prefix}:runs:planning`;
}

/** String with TTL: the fleet process sweeping the failed sets now (workers/sweep-given-up-jobs.ts). */
export function givenUpSweepLockKey(prefix: string): string {
  return `${prefix}:given-up-sweep`;
}

/** JSON string: where the sweep of a queue's failed set stands between passes (workers/sweep-place.ts). */
export function givenUpSweepPlaceKey(prefix: string, queue: string): string {
  return `${prefix}:given-up-sweep:${queue}`;
}

/** Where a run's files live under the output prefix. */
export function runObjectKeys(runId: string): {
  manifest: string;
  summary: string;
  rejected: string;
  segment(seq: number): string;
  batchRequests(shard: string): string;
  batchTargets(shard: string): string;
  /** Drafts of variants made from the shard's items (`from:`), one line per hero; absent when none. */
  batchDependants(shard: string): string;
} {
  const base = `runs/${runId}`;
  return {
    manifest: `${base}/manifest.jsonl`,
    summary: `${base}/summary.json`,
    rejected: `${base}/rejected.jsonl`,
    segment: (seq: number) => `${base}/records/${String(seq).padStart(6, '0')}.jsonl`,
    batchRequests: (shard: string) => `${base}/batches/${shard}/requests.jsonl`,
    batchTargets: (shard: string) => `${base}/batches/${shard}/targets.jsonl`,
    batchDependants: (shard: string) => `${base}/batches/${shard}/dependants.jsonl`,
  };
}
