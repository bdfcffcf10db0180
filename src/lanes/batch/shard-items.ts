import { BunchError } from '../../errors/bunch-error.js';
import type { ItemTarget } from '../../plan/planned-item.js';
import { runObjectKeys } from '../../runs/run-keys.js';
import type { ObjectStore } from '../../storage/object-store.js';
import { readLines } from './read-lines.js';

/**
 * Reads a shard's files back from the run's object store. Results are matched to items by key
 * through this map, never by position; it holds one small target per request of the shard
 * (bounded by `maxRequestsPerBatch`).
 */
export async function loadShardTargets(store: ObjectStore, runId: string, shard: string): Promise<Map<string, ItemTarget>> {
  const key = runObjectKeys(runId).batchTargets(shard);
  const stream = await store.getStream(key);
  if (!stream) throw new BunchError('E_STORAGE', `batch shard ${shard} of run ${runId} has no targets file (${key})`, { retryable: false });
  const targets = new Map<string, ItemTarget>();
  for await (const line of readLines(stream)) {
    const target = JSON.parse(line) as ItemTarget;
    targets.set(target.itemKey, target);
  }
  return targets;
}

/** The request bodies of the wanted keys, streamed from the shard's requests file. */
export async function* readShardRequests(
  store: ObjectStore,
  runId: string,
  shard: string,
  wanted: ReadonlySet<string>,
): AsyncGenerator<{ key: string; request: Record<string, unknown> }> {
  const key = runObjectKeys(runId).batchRequests(shard);
  const stream = await store.getStream(key);
  if (!stream) throw new BunchError('E_STORAGE', `batch shard ${shard} of run ${runId} has no requests file (${key})`, { retryable: false });
  for await (const line of readLines(stream)) {
    const entry = JSON.parse(line) as { key: string; request: Record<string, unknown> };
    if (wanted.has(entry.key)) yield entry;
  }
}

/** A hero of the shard and the drafts of the variants made from it (ShardWriter's `dependants.jsonl`). */
export interface ShardDependants {
  hero: ItemTarget;
  dependants: { target: ItemTarget; request: Record<string, unknown> }[];
}

/** The shard's dependants by hero item key; empty when it has none. */
export async function loadShardDependants(store: ObjectStore, runId: string, shard: string): Promise<Map<string, ShardDependants>> {
  const stream = await store.getStream(runObjectKeys(runId).batchDependants(shard));
  const byHero = new Map<string, ShardDependants>();
  if (!stream) return byHero;
  for await (const line of readLines(stream)) {
    const entry = JSON.parse(line) as ShardDependants;
    byHero.set(entry.hero.itemKey, entry);
  }
  return byHero;
}
