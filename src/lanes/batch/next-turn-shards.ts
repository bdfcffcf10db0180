import type { GenerateContentRequest, RequestPart } from '../../gemini/generate-content-request.js';
import type { ItemTarget } from '../../plan/planned-item.js';
import { enqueueGenerateJobs, type SyncWork } from '../enqueue-generate-jobs.js';
import { readTurn } from '../sync/edit-conversation.js';
import { batchCutoff } from './batch-deadline.js';
import { writeFollowUpShards } from './follow-up-shards.js';
import type { SalvageDeps } from './salvage-items.js';
import { readShardRequests } from './shard-items.js';
import { readShardState } from './shard-state.js';

/**
 * Multi-turn edits on the batch lane: one shard wave per turn. Once a shard is collected, every
 * item whose turn was answered (and stored, collect-results.ts) asks its next turn in a shard
 * `<shard>-t`: the request it sent, plus the model's answer echoed back (parts with their thought
 * signatures) and the next step as a user turn. Too close to the run's deadline for another batch,
 * the items go to the sync lane, which resumes them from the stored turns. Safe to repeat: the
 * wave's name is deterministic and a wave already cut is not cut again.
 */
export async function writeNextTurnShards(shard: string, answered: readonly ItemTarget[], deps: SalvageDeps, now: number): Promise<number> {
  if (answered.length === 0) return 0;
  const { runs, store, config } = deps;
  const runId = config.runId;
  const root = `${shard}-t`;
  if (await readShardState(runs, runId, root)) return 0;
  const byKey = new Map(answered.map((target) => [target.itemKey, target]));
  async function* work(): AsyncGenerator<SyncWork> {
    for await (const { key, request } of readShardRequests(store, runId, shard, new Set(byKey.keys()))) {
      const target = byKey.get(key);
      if (!target?.steps) continue;
      const turn = target.turn ?? 1;
      const saved = await readTurn(store, target, turn);
      const step = target.steps[turn - 1];
      if (!saved || step === undefined) continue;
      const asked = request as unknown as GenerateContentRequest;
      const next: GenerateContentRequest = {
        ...asked,
        contents: [...asked.contents, { role: 'model', parts: saved.parts as RequestPart[] }, { role: 'user', parts: [{ text: step }] }],
      };
      yield { target: { ...target, turn: turn + 1 }, request: next as unknown as Record<string, unknown> };
    }
  }
  if (now >= batchCutoff(config)) {
    const late: SyncWork[] = [];
    for await (const entry of work()) late.push(entry);
    return enqueueGenerateJobs(deps.generateQueue, config, late);
  }
  return writeFollowUpShards(deps, { root, generation: 0 }, work());
}
