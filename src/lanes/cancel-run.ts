import { TERMINAL_RUN_STATUSES, type RunStatus } from '../runs/run-config.js';
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
): Promise<{ requested: boolean; promoted: number; batches: number; ended?: RunStatus }> {
  const requested = await runs.requestStop(runId, 'E_CANCELLED');
  if (!requested) {
    // A run that has ended (or is being finalized) has nothing left to cancel, and takes no stop.
    const status = (await runs.getControl(runId)).status;
    if (status && (TERMINAL_RUN_STATUSES.includes(status) || status === 'finalizing')) return { requested, ended: status, promoted: 0, batches: 0 };
  }
  const promoted = await promoteDelayedJobs(queues.generate, runId);
  const batches = await promoteDelayedJobs(queues.batch, runId);
  return { requested, promoted, batches };
}
