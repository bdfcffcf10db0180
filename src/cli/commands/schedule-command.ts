import path from 'node:path';
import type { Command } from 'commander';
import { BunchError } from '../../errors/bunch-error.js';
import { listSchedules, openScheduleQueue, readFirings, removeSchedule, upsertSchedule } from '../../schedules/schedule-queue.js';
import { parseDuration } from '../../spec/parse-duration.js';
import { openControlPlane, type ControlPlane } from '../control-plane.js';
import { requireRedisUrl, resolveSettings } from '../resolve-settings.js';

interface ConnectionFlags {
  json?: boolean;
  redisUrl?: string;
  prefix?: string;
}

interface AddFlags extends ConnectionFlags {
  cron?: string;
  every?: string;
  tz?: string;
  name?: string;
  overlap?: string;
}

/** `bunch schedule add|list|remove`: runs started by the worker fleet itself (BullMQ job schedulers). */
export function registerScheduleCommand(program: Command): void {
  const schedule = program.command('schedule').description('runs the worker fleet starts on a schedule (the job file is read when it fires)');
  const connection = (command: Command) =>
    command
      .option('--json', 'print machine-readable JSON on stdout')
      .option('--redis-url <url>', 'Redis URL (env REDIS_URL)')
      .option('--prefix <prefix>', 'key prefix (env BUNCH_PREFIX, default "bunch")');

  connection(
    schedule
      .command('add')
      .description('create or update a schedule')
      .argument('<job>', 'job file: a path every worker can read, or s3://bucket/dir/job.yaml')
      .option('--cron <pattern>', 'cron pattern, e.g. "0 2 * * *" (5 fields, or 6 with seconds)')
      .option('--every <duration>', 'fixed interval instead of --cron, e.g. 6h')
      .option('--tz <zone>', 'time zone of the cron pattern, e.g. Europe/Berlin (default UTC)')
      .option('--name <name>', 'schedule name (default: the job file name)')
      .option('--overlap <policy>', 'when the previous run of the job is still active: skip (default) or queue', 'skip'),
  ).action(
    withPlane(async (plane, prefix, job: string, flags: AddFlags) => {
      if (flags.overlap !== 'skip' && flags.overlap !== 'queue') throw new BunchError('E_CONFIG', `--overlap must be skip or queue, not "${flags.overlap}"`);
      const everyMs = flags.every === undefined ? undefined : parseDuration(flags.every);
      if (flags.every !== undefined && (everyMs === undefined || everyMs < 1000)) throw new BunchError('E_CONFIG', `--every ${flags.every} is not a duration of at least 1 s`);
      const jobSource = job.startsWith('s3://') ? job : path.resolve(job);
      const name = flags.name ?? path.basename(job).replace(/\.(ya?ml|json)$/i, '');
      const queue = openScheduleQueue(plane.redis, prefix);
      try {
        await upsertSchedule(queue, {
          name,
          jobSource,
          overlap: flags.overlap,
          ...(flags.cron !== undefined ? { cron: flags.cron } : {}),
          ...(everyMs !== undefined ? { everyMs } : {}),
          ...(flags.tz !== undefined ? { tz: flags.tz } : {}),
        });
        const [info] = (await listSchedules(queue)).filter((entry) => entry.name === name);
        print(flags.json, info, () => `schedule ${name}: ${describeWhen(info ?? {})} → ${jobSource} (overlap ${flags.overlap}); next ${info?.next ?? '?'}`);
      } finally {
        await queue.close();
      }
    }),
  );

  connection(schedule.command('list').description('schedules with their next firing and their last firings')).action(
    withPlane(async (plane, prefix, flags: ConnectionFlags) => {
      const queue = openScheduleQueue(plane.redis, prefix);
      try {
        const schedules = await Promise.all(
          (await listSchedules(queue)).map(async (info) => ({ ...info, last: await readFirings(plane.redis, prefix, info.name, 5) })),
        );
        print(flags.json, schedules, () =>
          schedules.length === 0
            ? 'no schedules'
            : schedules
                .map((info) =>
                  [
                    `${info.name}  ${describeWhen(info)}  next ${info.next ?? '?'}  overlap ${info.overlap}  ${info.jobSource}`,
                    ...info.last.map((firing) => `  ${firing.at}  ${firing.outcome}${firing.runId ? ` ${firing.runId}` : ''}${firing.reason ? `: ${firing.reason}` : ''}`),
                  ].join('\n'),
                )
                .join('\n'),
        );
      } finally {
        await queue.close();
      }
    }),
  );

  connection(schedule.command('remove').description('remove a schedule (runs it started are not touched)').argument('<name>')).action(
    withPlane(async (plane, prefix, name: string, flags: ConnectionFlags) => {
      const queue = openScheduleQueue(plane.redis, prefix);
      try {
        if (!(await removeSchedule(queue, name))) throw new BunchError('E_NOT_FOUND', `there is no schedule named ${name}`);
        print(flags.json, { name, removed: true }, () => `schedule ${name} removed`);
      } finally {
        await queue.close();
      }
    }),
  );
}

function withPlane<A extends unknown[]>(action: (plane: ControlPlane, prefix: string, ...args: A) => Promise<void>) {
  return async (...args: A) => {
    const flags = args.find((arg): arg is ConnectionFlags => typeof arg === 'object' && arg !== null && !Array.isArray(arg)) ?? {};
    const settings = resolveSettings(flags);
    const plane = await openControlPlane(requireRedisUrl(settings), settings.prefix);
    try {
      await action(plane, settings.prefix, ...args);
    } finally {
      await plane.close();
    }
  };
}

function describeWhen(info: { cron?: string; tz?: string; everyMs?: number }): string {
  if (info.cron) return `cron "${info.cron}"${info.tz ? ` ${info.tz}` : ' UTC'}`;
  return info.everyMs ? `every ${Math.round(info.everyMs / 1000)} s` : '?';
}

function print(json: boolean | undefined, value: unknown, human: () => string): void {
  process.stdout.write(json ? JSON.stringify(value) + '\n' : human() + '\n');
}
