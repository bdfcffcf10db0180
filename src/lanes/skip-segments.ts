import type { ItemRecord } from '../runs/item-record.js';
import type { RunStore } from '../runs/run-store.js';
import type { ObjectStore } from '../storage/object-store.js';

/** Skips gathered before a segment is written: about one flush threshold's worth. */
const SEGMENT_RECORDS = 2000;

/**
 * Segments written at once while planning goes on. A segment's put ends in an fsync, which on a
 * busy disk can take a few hundred milliseconds: waiting for each one stalled planning for most
 * of that time. Two in flight keep planning busy and memory bounded (4,000 records at most).
 */
const SEGMENTS_IN_FLIGHT = 2;

/**
 * Planning's skips, written to the run's record segments a few thousand at a time and then
 * counted in Redis with one call (RecordLog.recordInSegment): a second night of a million stored
 * rows passes no record through Redis. Only records with nothing to add to the run's cost, tokens
 * or errors qualify; the caller records any other as usual. Segments are written in the
 * background (SEGMENTS_IN_FLIGHT at a time); `flush` waits for all of them and reports the first
 * failure.
 */
export class SkipSegments {
  private pending: ItemRecord[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private failure: unknown;
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
    while (this.pending.length >= SEGMENT_RECORDS) {
      while (this.inFlight.size >= SEGMENTS_IN_FLIGHT) await Promise.race(this.inFlight);
      this.throwIfFailed();
      this.start(this.pending.splice(0, SEGMENT_RECORDS));
    }
  }

  /** Writes and counts what is pending, and waits for every segment under way; a no-op when nothing is. */
  async flush(): Promise<void> {
    while (this.pending.length > 0) this.start(this.pending.splice(0, SEGMENT_RECORDS));
    await Promise.all(this.inFlight);
    this.throwIfFailed();
  }

  private start(batch: ItemRecord[]): void {
    const written: Promise<void> = this.write(batch).then(
      () => void this.inFlight.delete(written),
      (error: unknown) => {
        this.inFlight.delete(written);
        this.failure ??= error;
      },
    );
    this.inFlight.add(written);
  }

  private async write(batch: readonly ItemRecord[]): Promise<void> {
    // By lane: a segment's records are counted under one lane.
    for (const lane of ['sync', 'batch'] as const) {
      const ofLane = batch.filter((record) => record.lane === lane);
      if (ofLane.length === 0) continue;
      const outcome = await this.runs.records.recordInSegment(this.runId, this.store, ofLane);
      this.recorded += outcome.added;
      if (outcome.complete) await this.onRunComplete(this.runId);
    }
  }

  private throwIfFailed(): void {
    if (this.failure !== undefined) throw this.failure;
  }
}
