import type { ErrorCode } from '../errors/error-code.js';

/**
 * One step of an item's story (`bunch logs <runId> <itemKey>`): a call and its outcome, or a wait
 * that was not a call. Carried in the job's data while the item is in flight (gone with the job),
 * then in its record, which goes to storage with the manifest: never kept in Redis for good.
 */
export interface AttemptEntry {
  at: string;
  /** The attempt this step belongs to (waits do not start a new one). */
  attempt: number;
  outcome: 'succeeded' | 'failed' | 'retry' | 'rate-limited' | 'quota-wait' | 'claim-wait' | 'reused' | 'cancelled';
  code?: ErrorCode;
  httpStatus?: number;
  latencyMs?: number;
  /** The wait chosen before the next attempt (backoff, or what the API asked for). */
  retryDelayMs?: number;
  worker: string;
  note?: string;
}

