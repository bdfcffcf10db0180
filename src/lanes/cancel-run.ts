import type { RunStore } from '../runs/run-store.js';
import { promoteDelayedJobs } from './sync/promote-delayed-jobs.js';
import type { RunQueues } from './run-queues.js';

/**
 * Asks a run to stop. Workers record every item they pick up from now on as `cancelled` without
 * calling the model; retries waiting out a backoff are released so they are recorded now. Calls
 * already in flight finish and are kept (they are paid for). The run's batch shards waiting for
 * their next poll are released too: the worker that takes each one cancels its upstream batch
 * (workers hold the API key; this command does not need it), keeps what the batch already served
 * and records the rest cancelled.
 */
export async function cancelRun(
  runs: RunStore,
  queues: RunQueues,
  runId: string,
): Promise<{ requested: boolean; promoted: number; batches: number }> {
  const requested = await runs.requestStop(runId, 'E_CANCELLED');
  const promoted = await promoteDelayedJobs(queues.generate, runId);
  const batches = await promoteDelayedJobs(queues.batch, runId);
  return { requested, promoted, batches };
}
