/**
 * A run's deadline is `createdAt + batch.deadlineMs`. The batch lane gives up on a batch a margin
 * before it (10% of the run's window, at most 30 min), so items spilled to the sync lane still
 * have time to finish.
 */
import type { RunConfig } from '../../runs/run-config.js';

const MAX_MARGIN_MS = 30 * 60_000;

export function runDeadline(config: Pick<RunConfig, 'createdAt' | 'batch'>): number {
  return Date.parse(config.createdAt) + config.batch.deadlineMs;
}

/** The moment after which a batch that has not finished is cancelled and its rest spilled. */
export function batchCutoff(config: Pick<RunConfig, 'createdAt' | 'batch'>): number {
  return runDeadline(config) - Math.min(MAX_MARGIN_MS, Math.round(config.batch.deadlineMs * 0.1));
}
