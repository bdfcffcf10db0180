import type { ItemRecord } from '../runs/item-record.js';
import type { ClaimRelease, RecordOutcome, ShardShare } from '../runs/record-log.js';
import type { RunStore } from '../runs/run-store.js';
import type { ObjectStore } from '../storage/object-store.js';

/** What a delivery settles in the same step as its record. */
export interface RecordSettles {
  /** The output claim the delivery holds, freed (only while it is still this token's). */
  claim?: ClaimRelease;
  /** The item's share of its batch shard's reservation, given back with its first record. */
  shardShare?: ShardShare;
}

/**
 * Records an item's terminal state (first record wins), requests the run's finalization when this
 * record completed the run, and moves records to storage when too many sit in Redis. Both lanes
 * record through here; a sync delivery frees its output claim in the same step (`claim`).
 */
export async function recordItem(
  runs: RunStore,
  store: ObjectStore,
  runId: string,
  record: ItemRecord,
  onRunComplete: (runId: string) => Promise<void>,
  settles: RecordSettles = {},
): Promise<RecordOutcome> {
  const outcome = settles.shardShare
    ? await runs.records.recordShardItem(runId, record, settles.shardShare)
    : await runs.records.recordTerminal(runId, record, settles.claim);
  if (outcome.complete) await onRunComplete(runId);
  if (outcome.recorded && runs.records.shouldFlush(outcome)) await runs.records.flush(runId, store);
  return outcome;
}

/** recordItem for many records in one Redis round trip (planning's skips, a chunk at a time). */
export async function recordItems(
  runs: RunStore,
  store: ObjectStore,
  runId: string,
  records: readonly ItemRecord[],
  onRunComplete: (runId: string) => Promise<void>,
): Promise<RecordOutcome[]> {
  const outcomes = await runs.records.recordTerminalMany(runId, records);
  if (outcomes.some((outcome) => outcome.complete)) await onRunComplete(runId);
  const last = outcomes.filter((outcome) => outcome.recorded).at(-1);
  if (last && runs.records.shouldFlush(last)) await runs.records.flush(runId, store);
  return outcomes;
}
