import type { BatchInput } from './batch-create-request.js';
import type { BatchItemSource } from './batch-item-source.js';
import type { BatchScenario } from './batch-scenario.js';

export type BatchState =
  | 'BATCH_STATE_PENDING'
  | 'BATCH_STATE_RUNNING'
  | 'BATCH_STATE_SUCCEEDED'
  | 'BATCH_STATE_FAILED'
  | 'BATCH_STATE_CANCELLED'
  | 'BATCH_STATE_EXPIRED';

export type TerminalBatchState = Exclude<BatchState, 'BATCH_STATE_PENDING' | 'BATCH_STATE_RUNNING'>;

/** google.rpc.Status as it appears in operations and result lines (numeric gRPC code). */
export interface RpcStatus {
  code: number;
  message: string;
  details?: unknown[];
}

/** Where a running batch writes its result lines (the GENERATED result file, or the inline store). */
export interface BatchResultSink {
  write(line: string): Promise<void>;
  finish(): Promise<void>;
  abort(): Promise<void>;
}

/**
 * One batch of the emulator. PENDING and RUNNING are read off the clock (`createTimeMs` plus the
 * scenario's durations); terminal states are recorded once the engine decides them. Counters
 * count result lines already written.
 */
export class BatchJob {
  terminal: TerminalBatchState | undefined;
  endTimeMs: number | undefined;
  error: RpcStatus | undefined;
  /** True once results exist to report (SUCCEEDED, or CANCELLED after items started). */
  hasOutput = false;
  processed = 0;
  succeeded = 0;
  failed = 0;
  cancelRequested = false;
  /** True once the engine opened the input and the result sink (the batch began serving items). */
  started = false;
  source: BatchItemSource | undefined;
  sink: BatchResultSink | undefined;
  /** Serialises the background loop, cancel, delete and close on this batch. */
  private lock: Promise<void> = Promise.resolve();

  constructor(
    readonly id: string,
    readonly model: string,
    readonly displayName: string | undefined,
    readonly input: BatchInput,
    readonly requestCount: number,
    readonly scenario: BatchScenario,
    readonly createTimeMs: number,
    /** Inline results are kept on disk here until served; file results go to `files/batch-<id>`. */
    readonly inlineResultsPath: string | undefined,
  ) {}

  get runStartMs(): number {
    return this.createTimeMs + this.scenario.pendingMs;
  }

  get runEndMs(): number {
    return this.runStartMs + this.scenario.runningMs;
  }

  get resultFileId(): string {
    return `batch-${this.id}`;
  }

  state(now: number): BatchState {
    if (this.terminal) return this.terminal;
    return now < this.runStartMs ? 'BATCH_STATE_PENDING' : 'BATCH_STATE_RUNNING';
  }

  /** PENDING or RUNNING: counts against `maxActiveBatches`. */
  get active(): boolean {
    return this.terminal === undefined;
  }

  updateTimeMs(now: number): number {
    if (this.endTimeMs !== undefined) return this.endTimeMs;
    return now < this.runStartMs ? this.createTimeMs : this.runStartMs;
  }

  /** How many items the clock says should have been served by `now` (spread evenly over RUNNING). */
  dueCount(now: number): number {
    if (now < this.runStartMs) return 0;
    if (now >= this.runEndMs || this.scenario.runningMs === 0) return this.requestCount;
    return Math.floor(((now - this.runStartMs) * this.requestCount) / this.scenario.runningMs);
  }

  finish(state: TerminalBatchState, now: number, error?: RpcStatus): void {
    this.terminal = state;
    this.endTimeMs = now;
    this.error = error;
  }

  /** Runs `task` after every earlier task on this batch has settled. */
  exclusive<T>(task: () => Promise<T>): Promise<T> {
    const result = this.lock.then(task);
    this.lock = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}
