import type { Logger } from 'pino';
import { toErrorRecord } from '../errors/bunch-error.js';
import type { ObjectStore } from '../storage/object-store.js';
import {
  deleteStoredIndex,
  pruneStoredIndexes,
  readStoredIndexPointer,
  storedIndexObject,
  storedIndexPointerKey,
  writeStoredIndexPointer,
  type StoredIndexPointer,
} from './stored-index-pointer.js';

export interface StoredIndexUpdate {
  jobName: string;
  runId: string;
  /** False when the run's index could not be written (its temp copy failed). */
  indexWritten: boolean;
  entries: number;
  writtenAt: string;
}

/**
 * The finalizer's last word on the job's index: points the job at this run's index, remembering
 * the one it replaces, and removes the one before that. When this run's index could not be
 * written, the pointer is removed instead — the older index could describe outputs this run made
 * again — with the indexes it named, and the next run reads markers.
 */
export async function updateStoredIndexPointer(store: ObjectStore, update: StoredIndexUpdate, logger?: Logger): Promise<void> {
  if (!update.indexWritten) {
    const removed = await readStoredIndexPointer(store, update.jobName);
    await store.delete(storedIndexPointerKey(update.jobName));
    // Nothing names the indexes it named any more.
    for (const key of [removed?.index, removed?.previous]) {
      if (key !== undefined) await deleteStoredIndex(store, key).catch((error: unknown) => warnNotRemoved(logger, update.runId, error));
    }
    return;
  }
  const index = storedIndexObject(update.runId);
  const replaced = await readStoredIndexPointer(store, update.jobName);
  // Finalizing again (after a crash) keeps what the first pass recorded as replaced.
  const again = replaced?.runId === update.runId;
  const previous = again ? replaced?.previous : replaced?.index;
  const written: StoredIndexPointer = {
    schemaVersion: 1,
    jobName: update.jobName,
    runId: update.runId,
    index,
    entries: update.entries,
    writtenAt: update.writtenAt,
    ...(previous !== undefined && previous !== index ? { previous } : {}),
  };
  await writeStoredIndexPointer(store, written);
  if (again) return;
  // Housekeeping: a failure leaves an old index behind, never the run unfinished.
  await pruneStoredIndexes(store, written, replaced).catch((error: unknown) => warnNotRemoved(logger, update.runId, error));
}

function warnNotRemoved(logger: Logger | undefined, runId: string, error: unknown): void {
  logger?.warn({ runId, err: toErrorRecord(error) }, 'could not remove an old stored-output index');
}
