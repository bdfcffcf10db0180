/**
 * How `lane: auto` decides. The Batch API costs half but takes minutes to hours (target 24 h), so
 * it pays off for runs with many items and time to spare; small or urgent runs go to the sync lane.
 * The job schema has no knob for these yet; they are constants here, overridable per call.
 */
export const AUTO_BATCH_MIN_ITEMS = 200;
export const AUTO_BATCH_MIN_DEADLINE_MS = 2 * 3600_000;

export interface AutoLaneOptions {
  /** Items still to generate (after skipping what storage holds) needed for batch. */
  autoBatchMinItems?: number;
  /** How far away the run's deadline must be for batch. */
  autoBatchMinDeadlineMs?: number;
}

/** The deadline half of the decision, known before the catalog is read. */
export function deadlineAllowsBatch(deadlineMs: number, options: AutoLaneOptions = {}): boolean {
  return deadlineMs >= (options.autoBatchMinDeadlineMs ?? AUTO_BATCH_MIN_DEADLINE_MS);
}

/** Shard names sort in cut order: s0001, s0002, ... */
export function plannedShardName(seq: number): string {
  return `s${String(seq).padStart(4, '0')}`;
}
