import { safeKeySegment } from '../plan/safe-key-segment.js';
import type { ObjectStore } from '../storage/object-store.js';

/**
 * Where a job's newest stored-output index is: written by the finalizer of every run that read
 * its whole catalog, read by the next run's planner (stored-output-lookup.ts).
 */
export interface StoredIndexPointer {
  schemaVersion: 1;
  jobName: string;
  runId: string;
  /** Object key of the index in the same output location. */
  index: string;
  entries: number;
  writtenAt: string;
  /**
   * The index this pointer replaced. It is kept one more run (a planner may be loading it while
   * the pointer moves on) and removed when this pointer is replaced in turn (pruneStoredIndexes).
   */
  previous?: string;
}

export function storedIndexPointerKey(jobName: string): string {
  return `_bunch/jobs/${safeKeySegment(jobName)}/stored-index.json`;
}

export function storedIndexObject(runId: string): string {
  return `runs/${runId}/stored-index.jsonl`;
}

export async function readStoredIndexPointer(store: ObjectStore, jobName: string): Promise<StoredIndexPointer | undefined> {
  const body = await store.get(storedIndexPointerKey(jobName));
  if (!body) return undefined;
  try {
    const pointer = JSON.parse(body.toString('utf8')) as Partial<StoredIndexPointer>;
    return pointer.schemaVersion === 1 && typeof pointer.index === 'string' && typeof pointer.runId === 'string' ? (pointer as StoredIndexPointer) : undefined;
  } catch {
    return undefined;
  }
}

export async function writeStoredIndexPointer(store: ObjectStore, pointer: StoredIndexPointer): Promise<void> {
  await store.put(storedIndexPointerKey(pointer.jobName), JSON.stringify(pointer, null, 2) + '\n', { contentType: 'application/json' });
}

/**
 * After `written` replaced `replaced` as the job's pointer: removes the index the replaced pointer
 * had itself replaced, so a job keeps two indexes, not one a night (a 1M-row index is about half
 * a GB). Never removes an index a pointer written since names: `written` names new indexes only.
 * A planner still loading a removed index fails that load and checks markers instead (slower,
 * never wrong). Returns the key removed, if any.
 */
export async function pruneStoredIndexes(store: ObjectStore, written: StoredIndexPointer, replaced: StoredIndexPointer | undefined): Promise<string | undefined> {
  const stale = replaced?.previous;
  if (stale === undefined || stale === written.index || stale === written.previous) return undefined;
  return (await deleteStoredIndex(store, stale)) ? stale : undefined;
}

/**
 * Removes an index a pointer named, if `key` is one: only `runs/<runId>/stored-index.jsonl` is
 * ever removed, whatever a (hand-edited) pointer says. True when it was one.
 */
export async function deleteStoredIndex(store: ObjectStore, key: string): Promise<boolean> {
  if (!/^runs\/[^/]+\/stored-index\.jsonl$/.test(key)) return false;
  await store.delete(key);
  return true;
}
