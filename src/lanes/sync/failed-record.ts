import type { ErrorCode } from '../../errors/error-code.js';
import type { ItemTarget } from '../../plan/planned-item.js';
import { baseRecord } from '../../outputs/store-item-output.js';
import type { ItemRecord } from '../../runs/item-record.js';

/**
 * The record of a sync-lane item that failed for good: by the processor (a terminal error, or
 * the last attempt), or by the worker when BullMQ gave up on a job the processor never recorded.
 */
export function failedRecord(
  target: ItemTarget,
  failure: { code: ErrorCode; message: string; reason?: string | undefined; status?: number | undefined },
  attempts: number,
  startedAt?: string,
): ItemRecord {
  const record = baseRecord(target, 'sync', 'failed', new Date().toISOString());
  record.attempts = attempts;
  record.errorCode = failure.code;
  record.errorMessage = failure.message;
  if (startedAt !== undefined) record.startedAt = startedAt;
  if (failure.reason) record.finishReason = failure.reason;
  if (failure.status) record.httpStatus = failure.status;
  return record;
}
