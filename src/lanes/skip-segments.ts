import type { ItemRecord } from '../runs/item-record.js';
import type { RunStore } from '../runs/run-store.js';
import type { ObjectStore } from '../storage/object-store.js';

/** Skips gathered before a segment is written: about one flush threshold's worth. */
const SEGMENT_RECORDS = 2000;

/**
 * Planning's skips, written to the run's record segments a few thousand at a time and then
 * counted in Redis with one call (RecordLog.recordInSegment): a second night of a million stored
 * rows passes no record through Redis. Only records with nothing to add to the run's cost, tokens
 * or errors qualify; the caller records any other as usual.
 */
export class SkipSegments {
  private pending: ItemRecord[] = [];
  /** Skips counted in Redis so far. */
  recorded = 0;

  constructor(
    private readonly runs: RunStore,
    private readonly store: ObjectStore,
    private readonly runId: string,
    private readonly onRunComplete: (runId: string) => Promise<void>,
  ) {}

  static accepts(record: ItemRecord): boolean {
    return record.status === 'skipped' && record.costUsd === 0 && record.usage === undefined && record.errorCode === undefined;
  }

  async add(records: readonly ItemRecord[]): Promise<void> {
    this.pending.push(...records);
    if (this.pending.length >= SEGMENT_RECORDS) await this.flush();
  }

  /** Writes and counts what is pending; a no-op when nothing is. */
  async flush(): Promise<void> {
    while (this.pending.length > 0) {
      const batch = this.pending.slice(0, SEGMENT_RECORDS);
      // By lane: a segment's records are counted under one lane.
      for (const lane of ['sync', 'batch'] as const) {
        const ofLane = batch.filter((record) => record.lane === lane);
        if (ofLane.length === 0) continue;
        const outcome = await this.runs.records.recordInSegment(this.runId, this.store, ofLane);
        this.recorded += outcome.added;
        if (outcome.complete) await this.onRunComplete(this.runId);
      }
      this.pending = this.pending.slice(batch.length);
    }
  }
}
