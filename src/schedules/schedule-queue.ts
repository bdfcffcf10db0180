import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { BunchError } from '../errors/bunch-error.js';

export const SCHEDULE_QUEUE = 'schedules';
export const SCHEDULED_RUN = 'scheduled-run';

/** What a schedule starts when it fires: a job file, read at fire time, and what to do on overlap. */
export interface ScheduledRunData {
  /** A path every worker can read, or an `s3://bucket/key.yaml` location. */
  jobSource: string;
  /** A run of the same job still active: `skip` this firing (recorded) or `queue` it until that run ends. */
  overlap: 'skip' | 'queue';
  /** Set on a `queue` firing while it waits: the run it waits for. */
  queuedBehind?: string;
}

export interface ScheduleSpec {
  name: string;
  jobSource: string;
  cron?: string;
  everyMs?: number;
  tz?: string;
  overlap: 'skip' | 'queue';
}

export interface ScheduleInfo extends ScheduleSpec {
  next?: string;
}

export function openScheduleQueue(connection: Redis, prefix: string): Queue<ScheduledRunData> {
  const queue = new Queue<ScheduledRunData>(SCHEDULE_QUEUE, { connection, prefix });
  queue.on('error', () => undefined); // the shared connection reports Redis trouble
  return queue;
}

/** Creates or updates a schedule (BullMQ job scheduler; idempotent by name). */
export async function upsertSchedule(queue: Queue<ScheduledRunData>, spec: ScheduleSpec): Promise<void> {
  if ((spec.cron === undefined) === (spec.everyMs === undefined)) {
    throw new BunchError('E_CONFIG', 'a schedule needs exactly one of --cron "<pattern>" or --every <duration>');
  }
  // Without --tz a cron pattern is read in UTC, as `schedule add --help` and `schedule list` say:
  // left to cron-parser it would be each host's own zone (the CLI's for the first firing, each
  // worker's after that).
  const repeat = spec.cron !== undefined ? { pattern: spec.cron, tz: spec.tz ?? 'UTC' } : { every: spec.everyMs! };
  try {
    await queue.upsertJobScheduler(spec.name, repeat, {
      name: SCHEDULED_RUN,
      data: { jobSource: spec.jobSource, overlap: spec.overlap },
      opts: { attempts: 3, backoff: { type: 'exponential', delay: 5000 }, removeOnComplete: 100, removeOnFail: 100 },
    });
  } catch (error) {
    // cron-parser refuses a bad pattern or time zone here, before anything is stored.
    throw new BunchError('E_CONFIG', `schedule "${spec.name}" is not usable: ${(error as Error).message}`, { cause: error });
  }
}

export async function listSchedules(queue: Queue<ScheduledRunData>): Promise<ScheduleInfo[]> {
  const schedulers = await queue.getJobSchedulers(0, -1, true);
  return schedulers.map((scheduler) => {
    const data = scheduler.template?.data;
    const info: ScheduleInfo = {
      name: scheduler.key,
      jobSource: data?.jobSource ?? '?',
      overlap: data?.overlap ?? 'skip',
    };
    if (scheduler.pattern) info.cron = scheduler.pattern;
    if (scheduler.every) info.everyMs = Number(scheduler.every);
    if (scheduler.tz) info.tz = scheduler.tz;
    if (scheduler.next) info.next = new Date(scheduler.next).toISOString();
    return info;
  });
}

export async function removeSchedule(queue: Queue<ScheduledRunData>, name: string): Promise<boolean> {
  return queue.removeJobScheduler(name);
}

/**
 * Whether a schedule still exists. `schedule remove` deletes the scheduler and its next firing;
 * a firing already waiting (queued behind a run, or between retries) is not removed with it, and
 * asks this before it starts anything.
 */
export async function scheduleExists(redis: Redis, prefix: string, name: string): Promise<boolean> {
  // BullMQ keeps a queue's job schedulers in the sorted set `<prefix>:<queue>:repeat`.
  return (await redis.zscore(`${prefix}:${SCHEDULE_QUEUE}:repeat`, name)) !== null;
}

/** Where each schedule's firings are kept (newest first, the last 50). */
export function scheduleLogKey(prefix: string, name: string): string {
  return `${prefix}:schedule:${name}:log`;
}

export interface ScheduleFiring {
  at: string;
  outcome: 'started' | 'skipped' | 'queued' | 'failed';
  runId?: string;
  reason?: string;
}

export async function recordFiring(redis: Redis, prefix: string, name: string, firing: ScheduleFiring): Promise<void> {
  const key = scheduleLogKey(prefix, name);
  await redis.multi().lpush(key, JSON.stringify(firing)).ltrim(key, 0, 49).exec();
}

export async function readFirings(redis: Redis, prefix: string, name: string, limit = 10): Promise<ScheduleFiring[]> {
  return (await redis.lrange(scheduleLogKey(prefix, name), 0, limit - 1)).map((text) => JSON.parse(text) as ScheduleFiring);
}
