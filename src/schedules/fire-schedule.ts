import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { errorCodeOf } from '../errors/bunch-error.js';
import { redactSecrets } from '../errors/redact-secrets.js';
import type { ObjectStoreOpener } from '../lanes/run-context-cache.js';
import type { RunQueues } from '../lanes/run-queues.js';
import { startRun } from '../lanes/start-run.js';
import { TERMINAL_RUN_STATUSES } from '../runs/run-config.js';
import { mayBeRunOf, newRunId } from '../runs/run-id.js';
import { plannerGone, type RunStore } from '../runs/run-store.js';
import { loadJobFile } from '../spec/load-job-file.js';
import { fetchJobSource } from './fetch-job-source.js';
import { recordFiring, scheduleExists, type ScheduledRunData } from './schedule-queue.js';

export interface FireScheduleDeps {
  redis: Redis;
  prefix: string;
  runs: RunStore;
  queues: RunQueues;
  openStore: ObjectStoreOpener;
  logger: Logger;
  preflight?: (model: string) => Promise<void>;
  /** How long a `queue` firing waits between looks at the run it waits for (default 30 s). */
  queueRecheckMs?: number;
}

/** Run ids read from the run index at a time, looking for an active run of a job. */
const RUN_INDEX_PAGE = 1000;
/** A `queue` firing gives up (and is recorded skipped) after waiting this long. */
const QUEUE_WAIT_LIMIT_MS = 12 * 3600_000;

/**
 * One firing of a schedule, in a worker of the fleet: read the job file now (it may have changed
 * since the schedule was made), apply the overlap policy against runs of the same job that are
 * still going, start the run, and keep a line about it (`bunch schedule list` shows them).
 */
export async function fireSchedule(job: Job<ScheduledRunData>, token: string | undefined, deps: FireScheduleDeps): Promise<string> {
  const name = job.repeatJobKey ?? job.name;
  // When the firing was due. BullMQ stamps a scheduler's job with the time it was made — when the
  // previous firing started, a day early for a daily schedule — and keeps the slot in prevMillis.
  const firedAt = (job.opts as { prevMillis?: number }).prevMillis ?? job.timestamp + (job.opts.delay ?? 0);
  if (!(await scheduleExists(deps.redis, deps.prefix, name))) {
    await leaveQueueSeat(deps, name, job);
    await recordFiring(deps.redis, deps.prefix, name, { at: new Date().toISOString(), outcome: 'skipped', reason: 'the schedule was removed' });
    deps.logger.info({ schedule: name }, 'a firing of a removed schedule starts nothing');
    return 'skipped';
  }
  const source = await fetchJobSource(job.data.jobSource, deps.openStore);
  /** The run this firing starts, once it knows the job's name; a failure after it exists is not retried. */
  let runId: string | undefined;
  /** This delivery moved the firing to wait again (it keeps its seat in the queue). */
  let waitsOn = false;
  try {
    const resolved = await loadJobFile(source.file);
    const active = await activeRunOf(deps.runs, resolved.name);
    if (active) {
      const waitedMs = Date.now() - firedAt;
      if (job.data.overlap === 'queue' && waitedMs < QUEUE_WAIT_LIMIT_MS) {
        // Taken again at every look, not only the first: a delivery that failed (and is retried
        // by BullMQ) gave its seat up, and another tick may have queued meanwhile.
        const waiting = await takeQueueSeat(deps, name, job);
        if (waiting !== undefined) {
          // One firing waits per schedule: every tick of a long run queueing its own would start
          // that many runs back to back once it ends.
          const reason = `firing ${waiting} is already queued behind run ${active} of ${resolved.name}`;
          await recordFiring(deps.redis, deps.prefix, name, { at: new Date().toISOString(), outcome: 'skipped', reason });
          return 'skipped';
        }
        if (!job.data.queuedBehind) {
          await recordFiring(deps.redis, deps.prefix, name, { at: new Date().toISOString(), outcome: 'queued', reason: `run ${active} of ${resolved.name} is still active` });
          await job.updateData({ ...job.data, queuedBehind: active });
        }
        await job.moveToDelayed(Date.now() + (deps.queueRecheckMs ?? 30_000), token);
        throw new DelayedError();
      }
      const reason = `run ${active} of ${resolved.name} is still active`;
      await recordFiring(deps.redis, deps.prefix, name, { at: new Date().toISOString(), outcome: 'skipped', reason });
      deps.logger.warn({ schedule: name, activeRun: active }, 'scheduled run skipped: the previous run of the job is still active');
      return 'skipped';
    }
    runId = newRunId(resolved.name);
    const started = await startRun(resolved, {
      runs: deps.runs,
      queues: deps.queues,
      openStore: deps.openStore,
      logger: deps.logger,
      ...(deps.preflight ? { preflight: deps.preflight } : {}),
    }, { runId });
    await recordFiring(deps.redis, deps.prefix, name, { at: new Date().toISOString(), outcome: 'started', runId: started.runId });
    deps.logger.info({ schedule: name, runId: started.runId, items: started.items }, 'scheduled run started');
    return started.runId;
  } catch (error) {
    if (error instanceof DelayedError) {
      waitsOn = true;
      throw error;
    }
    const reason = `${errorCodeOf(error)}: ${redactSecrets(error instanceof Error ? error.message : String(error)).slice(0, 300)}`;
    // Planning failed after the run was created: that run is stopped and ends `aborted` on its
    // own. Firing again would plan one more run of the same catalog per attempt; the schedule's
    // next firing is the retry. Before the run exists (job source, preflight, Redis) it is retried.
    const created = runId !== undefined && (await deps.runs.getMeta(runId).catch(() => undefined)) !== undefined;
    await recordFiring(deps.redis, deps.prefix, name, { at: new Date().toISOString(), outcome: 'failed', ...(created ? { runId } : {}), reason });
    deps.logger.error({ schedule: name, reason, ...(created ? { runId } : {}) }, 'scheduled run could not start');
    if (created) throw new UnrecoverableError(reason);
    throw error;
  } finally {
    // A firing that leaves the queue (started, skipped, failed) gives its seat to the next.
    if (!waitsOn) await leaveQueueSeat(deps, name, job).catch(() => undefined);
    await source.cleanup();
  }
}

/** The one firing of a schedule that may wait behind an active run: a key naming its job. */
function queueSeatKey(prefix: string, name: string): string {
  return `${prefix}:schedule:${name}:waiting`;
}

/** Takes the schedule's waiting seat for this firing; answers the job holding it when another does. */
async function takeQueueSeat(deps: FireScheduleDeps, name: string, job: Job<ScheduledRunData>): Promise<string | undefined> {
  const key = queueSeatKey(deps.prefix, name);
  // Outlives the longest wait, so a seat of a firing that vanished (removed by hand) frees itself.
  if ((await deps.redis.set(key, String(job.id), 'PX', QUEUE_WAIT_LIMIT_MS + 3600_000, 'NX')) === 'OK') return undefined;
  const holder = await deps.redis.get(key);
  return holder === null || holder === String(job.id) ? undefined : holder;
}

async function leaveQueueSeat(deps: FireScheduleDeps, name: string, job: Job<ScheduledRunData>): Promise<void> {
  if (job.data.overlap !== 'queue') return;
  await deps.redis.eval("if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0", 1, queueSeatKey(deps.prefix, name), String(job.id));
}

/**
 * The id of a run of this job that has not ended, if any. A run whose planner died mid-planning
 * never ends by itself: it does not count, or every later firing of the job would be skipped.
 * Every run of the index is looked at (ids first, a page at a time; the meta only of ids shaped
 * like this job's): a long run of the job may have any number of other jobs' runs after it.
 * Before, only the 50 newest runs of all jobs were, and a busy fleet started a second nightly.
 */
async function activeRunOf(runs: RunStore, jobName: string): Promise<string | undefined> {
  for (let offset = 0; ; offset += RUN_INDEX_PAGE) {
    const ids = await runs.listRuns(RUN_INDEX_PAGE, offset);
    for (const runId of ids) {
      if (!mayBeRunOf(runId, jobName)) continue;
      const meta = await runs.getMeta(runId);
      if (!meta || meta.config.jobName !== jobName || TERMINAL_RUN_STATUSES.includes(meta.status)) continue;
      if (plannerGone(meta, Date.now())) continue;
      return runId;
    }
    if (ids.length < RUN_INDEX_PAGE) return undefined;
  }
}
