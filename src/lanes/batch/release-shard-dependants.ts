import { releaseDependants } from '../dependants/release-dependants.js';
import { enqueueGenerateJobs, type SyncWork } from '../enqueue-generate-jobs.js';
import { batchCutoff } from './batch-deadline.js';
import type { SalvageDeps } from './salvage-items.js';
import { loadShardDependants } from './shard-items.js';
import { readShardState } from './shard-state.js';
import { writeFollowUpShards } from './follow-up-shards.js';

/**
 * Once a shard is done, the variants made from its items (`from:`) move on. Heroes that are
 * terminal release theirs, unless another owner claimed that release first (a hero this shard
 * spilled to sync or resubmitted is released there: RunStore.claimRelease) (releaseDependants: failed heroes fail them with E_DEPENDENCY, stored
 * ones complete them); the completed drafts go into the next wave, a shard `<shard>-d` submitted
 * like any other — or to the sync lane when a batch would end past the run's deadline. Heroes the
 * shard moved on (spilled to sync, resubmitted) took their dependants with them (salvage-items.ts).
 * Safe to repeat: records are first-wins, the wave shard's name and state are deterministic.
 */
export async function releaseShardDependants(shard: string, deps: SalvageDeps, now: number): Promise<number> {
  const { runs, store, config } = deps;
  const runId = config.runId;
  const byHero = await loadShardDependants(store, runId, shard);
  if (byHero.size === 0) return 0;
  const released: SyncWork[] = [];
  for (const { hero, dependants } of byHero.values()) {
    if (!(await runs.records.isTerminal(runId, hero.index))) continue;
    await releaseDependants(
      { runs, store, onRunComplete: deps.onRunComplete, lane: 'batch', owner: shard, route: async (work) => void released.push(...work) },
      runId,
      hero,
      dependants,
    );
  }
  if (released.length === 0) return 0;
  if (now >= batchCutoff(config)) return enqueueGenerateJobs(deps.generateQueue, config, released);
  const root = `${shard}-d`;
  // A redelivery after the wave was cut must not cut it again: by now some of its items may be
  // recorded, the split would differ, and a rewritten shard file would not match a batch already
  // submitted from the first one.
  if (await readShardState(runs, runId, root)) return 0;
  return writeFollowUpShards(deps, { root, generation: 0 }, released);
}
