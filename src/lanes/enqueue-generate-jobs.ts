import type { Queue } from 'bullmq';
import type { ItemTarget, PlannedItem } from '../plan/planned-item.js';
import type { RunConfig } from '../runs/run-config.js';
import { generateJobId, type GenerateJobData } from './sync/generate-job-data.js';

/** One item for the sync lane: where its outputs go and the exact request body to send. */
export interface SyncWork {
  target: ItemTarget;
  request: Record<string, unknown>;
  /** Drafts of the variants made from this item's image; released when it is terminal. */
  dependants?: SyncWork[];
}

/**
 * The one way items enter the sync lane, used by planning (lane `sync`, small `auto` runs) and by
 * the batch lane when it spills unfinished items. Job ids are deterministic (`<runId>.<index>`),
 * so enqueueing the same item twice is a no-op while the first job exists, and a late duplicate
 * is recorded nowhere (the processor checks the item's terminal bit first).
 */
export async function enqueueGenerateJobs(
  queue: Queue<GenerateJobData>,
  config: Pick<RunConfig, 'runId' | 'sync' | 'systemInstruction'>,
  work: readonly SyncWork[],
): Promise<number> {
  if (work.length === 0) return 0;
  const slim = (request: Record<string, unknown>) => withoutRunSystemInstruction(request, config.systemInstruction);
  await queue.addBulk(
    work.map(({ target, request, dependants }) => ({
      name: 'generate',
      data: {
        ...generateJobData(config.runId, target, slim(request), config.sync.backoff),
        // Drafts keep their whole request: their inputHash is computed from it when completed.
        ...(dependants?.length ? { dependants: dependants.map((d) => ({ target: d.target, request: d.request })) } : {}),
      },
      opts: {
        jobId: generateJobId(config.runId, target.index),
        attempts: config.sync.attempts,
        backoff: { type: 'bunch' },
        removeOnComplete: true,
        removeOnFail: { age: 7 * 24 * 3600 },
      },
    })),
  );
  return work.length;
}

export function generateJobData(
  runId: string,
  target: ItemTarget,
  request: Record<string, unknown>,
  backoff: GenerateJobData['backoff'],
): GenerateJobData {
  return { ...target, runId, request, backoff: { ...backoff } };
}

/** The target part of a planned item (what a shard's targets file and a generate job carry). */
export function itemTargetOf(item: PlannedItem): ItemTarget {
  const { request: _request, ...target } = item;
  return target;
}

/**
 * The request as queued: the run's system instruction (kept once, in the run's config) is left
 * out; `withRunSystemInstruction` puts it back before the call. A request with another one keeps it.
 */
export function withoutRunSystemInstruction(
  request: Record<string, unknown>,
  system: RunConfig['systemInstruction'],
): Record<string, unknown> {
  if (!system || !('systemInstruction' in request)) return request;
  if (JSON.stringify(request.systemInstruction) !== JSON.stringify(system)) return request;
  const { systemInstruction: _shared, ...rest } = request;
  return rest;
}

export function withRunSystemInstruction(
  request: Record<string, unknown>,
  system: RunConfig['systemInstruction'],
): Record<string, unknown> {
  return system && !('systemInstruction' in request) ? { ...request, systemInstruction: system } : request;
}
