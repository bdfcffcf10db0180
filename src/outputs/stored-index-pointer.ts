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
