import type { Logger } from 'pino';
import type { RunStore } from '../runs/run-store.js';
import { promoteDelayedJobs } from './sync/promote-delayed-jobs.js';
import { requestFinalize, type RunQueues } from './run-queues.js';

/**
 * Ends runs whose planner died mid-planning (a `bunch run` killed, a worker that fired a schedule
 * and crashed). Such a run is never marked planned by its planner, so its total is never known
 * and it would stay `running` for good. Once the lease the planner renews has lapsed, the run is
 * stopped (`E_PLANNER_GONE`) and marked planned with what the planner noted it had handed out; the
 * items it queued are recorded `cancelled` as workers take them (those already called keep their
 * outputs), retries waiting out a backoff are promoted so that happens now, and the run finalizes
 * as `aborted`. Rows never planned are in no manifest: running the job again plans them (stored
 * outputs are skipped). Run by the fleet's sweep (start-workers.ts), one process at a time.
 * Returns the runs adopted.
 */
export async function adoptOrphanedRuns(runs: RunStore, queues: Pick<RunQueues, 'generate' | 'batch' | 'finalize'>, logger: Logger, nowMs = Date.now()): Promise<string[]> {
  const adopted: string[] = [];
  for (const runId of await runs.planningRuns()) {
    const note = `planning stopped with its planner, whose lease lapsed before ${new Date(nowMs).toISOString()}; the run ends with the items it had handed out`;
    const outcome = await runs.adoptOrphan(runId, nowMs, note);
    if (outcome === 'alive') continue;
    await runs.forgetPlanning(runId);
    if (outcome === 'gone') continue;
    adopted.push(runId);
    const promoted = (await promoteDelayedJobs(queues.generate, runId)) + (await promoteDelayedJobs(queues.batch, runId));
    if (outcome === 'complete') await requestFinalize(queues.finalize, runId);
    logger.warn({ runId, promoted }, 'a run\'s planner died mid-planning: the run is stopped and ends with the items it had handed out');
  }
  return adopted;
}
