import type { RunStore } from '../runs/run-store.js';
import { promoteDelayedJobs } from './sync/promote-delayed-jobs.js';
import type { SyncQueues } from './sync/sync-queues.js';

/**
 * Asks a run to stop. Workers record every item they pick up from now on as `cancelled` without
 * calling the model; retries waiting out a backoff are released so they are recorded now. Calls
 * already in flight finish and are kept (they are paid for).
 */
export async function cancelRun(runs: RunStore, queues: SyncQueues, runId: string): Promise<{ requested: boolean; promoted: number }> {
  const requested = await runs.requestStop(runId, 'E_CANCELLED');
  const promoted = await promoteDelayedJobs(queues.generate, runId);
  return { requested, promoted };
}
