import { Readable } from 'node:stream';
import { settleAll } from '../errors/settle-all.js';
import { rejectedPartKey } from './rejected-log.js';
import { readLatestPointer, removedKeysObject, writeLatestPointer, writeRemovedKeys } from './catalog-drift.js';
import type { Logger } from 'pino';
import { TERMINAL_RUN_STATUSES } from '../runs/run-config.js';
import { runObjectKeys } from '../runs/run-keys.js';
import type { RunStore } from '../runs/run-store.js';
import type { ObjectStore } from '../storage/object-store.js';
import { MANIFEST_SCHEMA_VERSION } from './manifest-line.js';
import { buildRunSummary, judgeRun, type RunSummary } from './run-summary.js';
import { StoredIndexWriter } from '../outputs/stored-index-writer.js';
import { storedIndexObject } from '../outputs/stored-index-pointer.js';
import { updateStoredIndexPointer } from '../outputs/update-stored-index-pointer.js';
import { toErrorRecord } from '../errors/bunch-error.js';

/** Manifest lines are handed to storage in strings of about this many characters. */
const MANIFEST_BATCH_CHARS = 64 * 1024;

/**
 * Writes `runs/<runId>/manifest.jsonl` (every item exactly once, then the rejected catalog rows)
 * and `summary.json`, then sets the run's final status. Safe to run twice: a run whose status is
 * already final is left alone (its item state released again, should a finalizer have died right
 * before), and a crash mid-way rewrites both files from the same records. One finalizer at a time
 * (a lock in Redis): a second one meanwhile gets FinalizerBusyError and asks again later.
 * Memory: records stream from storage segments and Redis; nothing holds the whole manifest.
 */
export async function finalizeRun(
  runs: RunStore,
  store: ObjectStore,
  runId: string,
  logger?: Logger,
): Promise<RunSummary | undefined> {
  const finalized = await runs.whileFinalizing(runId, async (_lost, token) => ({ summary: await finalizeHeld(runs, store, runId, token, logger) }));
  if (!finalized) throw new FinalizerBusyError(runId);
  return finalized.summary;
}

/** Another finalizer of the run holds its lock: ask again later (the finalize worker delays its job). */
export class FinalizerBusyError extends Error {
  constructor(readonly runId: string) {
    super(`run ${runId} is being finalized by another worker`);
    this.name = 'FinalizerBusyError';
  }
}

async function finalizeHeld(runs: RunStore, store: ObjectStore, runId: string, token: string, logger?: Logger): Promise<RunSummary | undefined> {
  const meta = await runs.getMeta(runId);
  if (!meta) return undefined;
  if (TERMINAL_RUN_STATUSES.includes(meta.status)) {
    // A finalizer that died between the final status and releasing the run's item state left
    // those keys without a TTL: releasing them again is what its redelivery owes.
    await runs.releaseItemState(runId);
    return undefined;
  }
  await runs.setStatus(runId, 'finalizing');
  const objects = runObjectKeys(runId);

  const rejectedByCode: Record<string, number> = {};
  // The catalog's keys as this run saw them (items and rejected rows with a key), for drift.
  const catalogKeys = new Set<string>();
  // Rejected rows whose key could not be read (a malformed record, an empty key cell): any of
  // them may be a product still listed, so drift is not reported rather than reported wrongly.
  let unkeyedRejections = 0;
  // What this run leaves stored, for the next run to plan against (stored-output-lookup.ts).
  const storedIndex = new StoredIndexWriter(store, runId);
  async function* lines(): AsyncGenerator<string> {
    // Lines go out in batches: a chunk per line through the stream costs more than the line.
    let batch = '';
    for await (const record of runs.records.read(runId, store)) {
      catalogKeys.add(record.key);
      await storedIndex.add(record);
      batch += JSON.stringify({ schemaVersion: MANIFEST_SCHEMA_VERSION, runId, ...record }) + '\n';
      if (batch.length >= MANIFEST_BATCH_CHARS) {
        yield batch;
        batch = '';
      }
    }
    if (batch !== '') yield batch;
    // Rejected rows were streamed to parts at planning; runs planned by older versions kept one file.
    const parts = Number(meta?.extra.rejectedParts ?? 0);
    const keys = parts > 0 ? Array.from({ length: parts }, (_, part) => rejectedPartKey(runId, part)) : [objects.rejected];
    for (const key of keys) {
      const rejected = await store.get(key);
      if (!rejected || rejected.length === 0) continue;
      const text = rejected.toString('utf8');
      for (const match of text.matchAll(/"errorCode":"(E_[A-Z_]+)"/g)) {
        const code = match[1] as string;
        rejectedByCode[code] = (rejectedByCode[code] ?? 0) + 1;
      }
      for (const line of text.split('\n')) {
        if (!line) continue;
        const key = (JSON.parse(line) as { key?: string }).key;
        if (key) catalogKeys.add(key);
        else unkeyedRejections += 1;
      }
      yield text;
    }
  }
  const status = judgeRun(meta);
  let finishedAt: Date;
  let summary: RunSummary;
  let indexWritten = false;
  try {
    await store.put(objects.manifest, Readable.from(lines()), { contentType: 'application/x-ndjson' });
    finishedAt = new Date();
    summary = buildRunSummary(meta, status, finishedAt, store.uriFor(objects.manifest));
    if (Object.keys(rejectedByCode).length > 0) summary.rejectedByCode = rejectedByCode;
    // Drift against the job's last succeeded run; only a run that read its whole catalog can tell.
    const previous = meta.stop ? undefined : await readLatestPointer(store, meta.config.jobName);
    if (previous && previous.runId !== runId && unkeyedRejections > 0) {
      summary.driftNotReported = `${unkeyedRejections} rejected row${unkeyedRejections === 1 ? '' : 's'} had no readable key (see the manifest's rejected lines); any of them may be a product still listed`;
    } else if (previous && previous.runId !== runId) {
      summary.removedKeys = await writeRemovedKeys(store, previous, catalogKeys, runId);
      summary.comparedWithRun = previous.runId;
      if (summary.removedKeys > 0) summary.removed = store.uriFor(removedKeysObject(runId));
    }
    // Index and summary do not depend on each other: written at once (each put ends in an fsync
    // on a local disk). Each pointer below goes only after what it points at.
    const [indexUploaded] = await settleAll<boolean | void>([
      storedIndex.upload(storedIndexObject(runId)),
      store.put(objects.summary, JSON.stringify(summary, null, 2) + '\n', { contentType: 'application/json' }),
    ]);
    indexWritten = indexUploaded === true;
    if (!indexWritten) {
      logger?.warn({ runId, err: toErrorRecord(storedIndex.failure) }, 'stored-output index not written (its temp copy failed): the next run reads markers');
    }
  } finally {
    await storedIndex.discard();
  }
  const pointers: Promise<void>[] = [];
  // Only an index of the whole catalog may stand for the job: not one of a stopped run or a retry
  // of a few items (their outputs are still found through their markers).
  if (!meta.stop && meta.extra.parentRunId === undefined) {
    pointers.push(
      updateStoredIndexPointer(
        store,
        { jobName: meta.config.jobName, runId, indexWritten, entries: storedIndex.entries, writtenAt: finishedAt.toISOString() },
        logger,
      ),
    );
  }
  if (status === 'succeeded') {
    pointers.push(writeLatestPointer(store, { schemaVersion: 1, jobName: meta.config.jobName, runId, finishedAt: finishedAt.toISOString(), manifest: objects.manifest }));
  }
  await settleAll(pointers);
  // A finalizer frozen past its lock lets another take over, which reads the records afresh; this
  // one must not then declare the run final and drop the records under it: the last step is made
  // only while the lock is still this finalizer's (checked in the same script).
  if (!(await runs.finishFinalizing(runId, token, status, finishedAt.toISOString()))) throw new FinalizerBusyError(runId);
  logger?.info({ runId, status, counts: summary.counts, costUsd: summary.costUsd }, 'run finalized');
  return summary;
}
