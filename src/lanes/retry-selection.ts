import { createInterface } from 'node:readline';
import { BunchError } from '../errors/bunch-error.js';
import { isErrorCode } from '../errors/error-code.js';
import type { ItemRecord } from '../runs/item-record.js';
import { runObjectKeys } from '../runs/run-keys.js';
import type { ObjectStore } from '../storage/object-store.js';

export interface RetryFilter {
  /** Only failed/cancelled items with one of these codes. */
  codes?: ReadonlySet<string>;
  /** Only these items, by item key (`SKU-1#hero`) or row key (`SKU-1`), whatever their status. */
  keys?: ReadonlySet<string>;
}

export interface RetrySelection {
  itemKeys: Set<string>;
  inputHashes: Map<string, string>;
  /** Keys of the filter that name no item of the parent run (a typo, another job's key), sorted. */
  notInParent: string[];
}

/**
 * `--codes E_UPSTREAM,E_TIMEOUT` as a set of error codes. A code that does not exist (a typo)
 * or an empty list is refused with E_CONFIG: it would select nothing, and "nothing to retry"
 * would read as a clean run.
 */
export function parseRetryCodes(text: string): ReadonlySet<string> {
  const codes = text.split(',').map((code) => code.trim()).filter(Boolean);
  if (codes.length === 0) throw new BunchError('E_CONFIG', '--codes names no error code (e.g. --codes E_UPSTREAM,E_TIMEOUT)');
  const unknown = codes.filter((code) => !isErrorCode(code));
  if (unknown.length > 0) {
    throw new BunchError('E_CONFIG', `--codes: ${unknown.map((code) => JSON.stringify(code)).join(', ')} ${unknown.length === 1 ? 'is not an error code' : 'are not error codes'} (the error codes are listed in docs/ARCHITECTURE.md)`);
  }
  return new Set(codes);
}

/**
 * What `bunch retry` holds, read from the parent run's manifest: its failed and cancelled items
 * (or those with the given codes, or the given keys), each with the inputHash it had, so the new
 * run can make sure it sends the same inputs. Items that succeeded are never selected by status;
 * selected by key, they are found stored and recorded skipped, never paid again.
 */
export async function selectFromParent(store: ObjectStore, parentRunId: string, filter: RetryFilter = {}): Promise<RetrySelection> {
  const stream = await store.getStream(runObjectKeys(parentRunId).manifest);
  if (!stream) {
    throw new BunchError('E_NOT_FOUND', `run ${parentRunId} has no manifest yet (it is still running, or its output location is elsewhere): retry it once it has ended`);
  }
  const selection: RetrySelection = { itemKeys: new Set(), inputHashes: new Map(), notInParent: [] };
  const seenKeys = new Set<string>();
  for await (const text of createInterface({ input: stream, crlfDelay: Infinity })) {
    if (!text) continue;
    const line = JSON.parse(text) as Omit<Partial<ItemRecord>, 'status'> & { status: string };
    if (line.status === 'rejected' || !line.itemKey || !line.inputHash) continue;
    if (filter.keys) {
      if (filter.keys.has(line.itemKey)) seenKeys.add(line.itemKey);
      if (line.key !== undefined && filter.keys.has(line.key)) seenKeys.add(line.key);
    }
    const chosen = filter.keys
      ? filter.keys.has(line.itemKey) || (line.key !== undefined && filter.keys.has(line.key))
      : (line.status === 'failed' || line.status === 'cancelled') && (!filter.codes || (line.errorCode !== undefined && filter.codes.has(line.errorCode)));
    if (!chosen) continue;
    selection.itemKeys.add(line.itemKey);
    selection.inputHashes.set(line.itemKey, line.inputHash);
  }
  if (filter.keys) selection.notInParent = [...filter.keys].filter((key) => !seenKeys.has(key)).sort();
  return selection;
}
