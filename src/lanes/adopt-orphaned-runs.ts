import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { toErrorRecord } from '../errors/bunch-error.js';
import type { RunStore } from '../runs/run-store.js';
import { promoteDelayedJobs } from './sync/promote-delayed-jobs.js';
import { requestFinalize, type RunQueues } from './run-queues.js';
import { runWorkLeft, type FailedJobsCheck } from './run-work-left.js';

export interface AdoptOptions {
  nowMs?: number;
  /**
   * How long an adopted run must have had no work left before its total is settled: a job BullMQ
   * gave up on just now is recorded by its worker's handler or the sweep within this.
   */
  quietMs: number;
  /** Whether a job BullMQ failed for good still waits to be handled (the given-up sweep's own test). */
  unhandledFailure?: FailedJobsCheck['unhandled'];
}

/** Failures of an adopted run looked at when judging whether work is left (older ones are the sweep's). */
const FAILURES_LOOKED_BACK_MS = 60 * 60_000;

/**
 * Ends runs whose planner died mid-planning (a `bunch run` killed, a worker that fired a schedule
 * and crashed). Such a run is never marked planned by its planner, so its total is never known and
 * it would stay `running` for good. Once the lease the planner renews has lapsed, the run is
 * adopted: stopped (`E_PLANNER_GONE`), so every item it handed out is recorded `cancelled` as
 * workers take it (calls already made keep their outputs), with retries waiting out a backoff
 * promoted so that happens now. Once none of its work is left anywhere (run-work-left.ts) for
 * `quietMs`, its total is settled at what was recorded and it finalizes as `aborted`. Rows never
 * planned are in no manifest: running the job again plans them (stored outputs are skipped). Run
 * by the fleet's sweep (start-workers.ts), one process at a time. Returns the runs settled.
 */
export async function adoptOrphanedRuns(
  redis: Redis,
  runs: RunStore,
  queues: Pick<RunQueues, 'generate' | 'batch' | 'finalize'>,
  logger: Logger,
  options: AdoptOptions,
): Promise<string[]> {
  const nowMs = options.nowMs ?? Date.now();
  const settled: string[] = [];
  for (const runId of await runs.planningRuns()) {
    // One run that cannot be looked at (its meta damaged) never holds up the others, nor the rest of the sweep.
    try {
      if (await adoptOne(redis, runs, queues, logger, runId, nowMs, options)) settled.push(runId);
    } catch (error) {
      logger.warn({ runId, err: toErrorRecord(error) }, 'could not look at a run being planned');
    }
  }
  return settled;
}

/** Adopts one run if its planner is gone, and settles it once quiet; true when it was settled. */
async function adoptOne(
  redis: Redis,
  runs: RunStore,
  queues: Pick<RunQueues, 'generate' | 'batch' | 'finalize'>,
  logger: Logger,
  runId: string,
  nowMs: number,
  options: AdoptOptions,
): Promise<boolean> {
  const note = `planning stopped with its planner, whose lease lapsed before ${new Date(nowMs).toISOString()}; the run ends with the items it had handed out`;
  const outcome = await runs.adoptOrphan(runId, nowMs, note);
  if (outcome === 'alive') return false;
  if (outcome === 'gone') {
    await runs.forgetPlanning(runId);
    return false;
  }
  if (outcome === 'adopted') {
    const promoted = (await promoteDelayedJobs(queues.generate, runId)) + (await promoteDelayedJobs(queues.batch, runId));
    logger.warn({ runId, promoted }, 'a run\'s planner died mid-planning: the run is stopped and ends with the items it had handed out');
  }
  const failed = options.unhandledFailure ? { unhandled: options.unhandledFailure, sinceMs: nowMs - FAILURES_LOOKED_BACK_MS } : undefined;
  const left = await runWorkLeft(redis, runs, queues, runId, failed);
  const quietSince = await runs.quietSince(runId, left === undefined ? nowMs : undefined);
  if (quietSince === undefined || nowMs - quietSince < options.quietMs) return false;
  if (!(await runs.settleAdopted(runId))) return false;
  await requestFinalize(queues.finalize, runId);
  return true;
}
