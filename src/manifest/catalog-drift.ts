import { createInterface } from 'node:readline';
import { safeKeySegment } from '../plan/safe-key-segment.js';
import type { ObjectStore } from '../storage/object-store.js';

/**
 * Catalog drift: which products were in the job's last succeeded run but are gone from the
 * catalog now, so nobody keeps serving images of delisted products. Each job keeps a `latest`
 * pointer in its output location; the next run's finalizer streams that run's manifest and
 * lists the keys it no longer has (`runs/<runId>/removed.jsonl`, a count in the summary).
 */
export interface LatestPointer {
  schemaVersion: 1;
  jobName: string;
  runId: string;
  finishedAt: string;
  /** Object key of that run's manifest in the same output location. */
  manifest: string;
}

export interface RemovedKeyLine {
  key: string;
  /** The run that last made it (the job's latest succeeded run). */
  lastRunId: string;
  /** Outputs of the key in that run, to take down: image and caption URIs. */
  outputs: string[];
}

export function latestPointerKey(jobName: string): string {
  return `_bunch/jobs/${safeKeySegment(jobName)}/latest.json`;
}

export function removedKeysObject(runId: string): string {
  return `runs/${runId}/removed.jsonl`;
}

export async function readLatestPointer(store: ObjectStore, jobName: string): Promise<LatestPointer | undefined> {
  const body = await store.get(latestPointerKey(jobName));
  if (!body) return undefined;
  try {
    const pointer = JSON.parse(body.toString('utf8')) as Partial<LatestPointer>;
    return pointer.schemaVersion === 1 && typeof pointer.runId === 'string' && typeof pointer.manifest === 'string' ? (pointer as LatestPointer) : undefined;
  } catch {
    return undefined;
  }
}

export async function writeLatestPointer(store: ObjectStore, pointer: LatestPointer): Promise<void> {
  await store.put(latestPointerKey(pointer.jobName), JSON.stringify(pointer, null, 2) + '\n', { contentType: 'application/json' });
}

/**
 * Streams the previous run's manifest and writes the keys missing from `currentKeys` (one line
 * each, in that manifest's order). Returns how many; 0 writes nothing. Memory: the current run's
 * keys (one string per catalog row), never the previous manifest.
 */
export async function writeRemovedKeys(store: ObjectStore, previous: LatestPointer, currentKeys: ReadonlySet<string>, runId: string): Promise<number> {
  const stream = await store.getStream(previous.manifest);
  if (!stream) return 0;
  const removed = new Map<string, RemovedKeyLine>();
  for await (const text of createInterface({ input: stream, crlfDelay: Infinity })) {
    if (!text) continue;
    const line = JSON.parse(text) as { key?: string; status?: string; image?: { uri?: string }; caption?: { uri?: string } };
    if (!line.key || currentKeys.has(line.key) || line.status === 'rejected') continue;
    const entry = removed.get(line.key) ?? { key: line.key, lastRunId: previous.runId, outputs: [] };
    for (const uri of [line.image?.uri, line.caption?.uri]) if (uri) entry.outputs.push(uri);
    removed.set(line.key, entry);
  }
  if (removed.size === 0) return 0;
  const body = [...removed.values()].map((entry) => JSON.stringify(entry)).join('\n') + '\n';
  await store.put(removedKeysObject(runId), body, { contentType: 'application/x-ndjson' });
  return removed.size;
}
