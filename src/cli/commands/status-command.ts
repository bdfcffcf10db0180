import type { Command } from 'commander';
import { openControlPlane } from '../control-plane.js';
import { describeRun } from '../describe-run.js';
import { requireRedisUrl, resolveSettings } from '../resolve-settings.js';
import { BunchError } from '../../errors/bunch-error.js';
import { integerFlag } from '../number-flag.js';
import { parseDuration } from '../../spec/parse-duration.js';
import { EXIT } from '../exit-codes.js';
import { watchRun } from '../watch-run.js';
import { publicRunMeta } from '../../runs/public-run-meta.js';

interface StatusFlags {
  watch?: boolean;
  interval?: string;
  json?: boolean;
  redisUrl?: string;
  prefix?: string;
  limit?: string;
}

export function registerStatusCommand(program: Command, setExitCode: (code: number) => void = () => undefined): void {
  program
    .command('status')
    .description('show a run (counts, throughput, ETA, cost, top errors), or list recent runs')
    .argument('[runId]', 'the run to show; omit to list recent runs')
    .option('--json', 'print machine-readable JSON on stdout')
    .option('--watch', 'refresh until the run ends (redrawn in a terminal, a line per interval otherwise); exits 0 only if it succeeded')
    .option('--interval <duration>', 'how often --watch refreshes', '2s')
    .option('--limit <n>', 'how many recent runs to list', '20')
    .option('--redis-url <url>', 'Redis URL (env REDIS_URL)')
    .option('--prefix <prefix>', 'key prefix (env BUNCH_PREFIX, default "bunch")')
    .action(async (runId: string | undefined, flags: StatusFlags) => {
      const settings = resolveSettings(flags);
      const plane = await openControlPlane(requireRedisUrl(settings), settings.prefix);
      try {
        if (runId && flags.watch) {
          const intervalMs = parseDuration(flags.interval ?? '2s');
          if (intervalMs === undefined || intervalMs < 100) throw new BunchError('E_CONFIG', `--interval ${flags.interval} is not a duration of at least 100 ms (e.g. 2s)`);
          const meta = await watchRun(plane.runs, runId, {
            intervalMs,
            redraw: !flags.json && process.stdout.isTTY === true,
            write: (text) => void process.stdout.write(flags.json ? '' : text),
            // The same limit as `run --wait` (BUNCH_FOLLOW_OUTAGE_LIMIT_MS): watching is following.
            outageToleranceMs: settings.followOutageLimitMs,
          });
          if (flags.json) process.stdout.write(JSON.stringify(publicRunMeta(meta)) + '\n');
          setExitCode(meta.status === 'succeeded' ? EXIT.ok : EXIT.runFailed);
          return;
        }
        if (runId) {
          const meta = await plane.runs.getMeta(runId);
          if (!meta) throw new BunchError('E_NOT_FOUND', `run ${runId} is not known to this Redis (its manifest in storage is the record of finished runs)`);
          process.stdout.write((flags.json ? JSON.stringify(publicRunMeta(meta)) : describeRun(meta)) + '\n');
          return;
        }
        const ids = await plane.runs.listRuns(integerFlag('--limit', flags.limit ?? '20', { min: 1, max: 10_000 }));
        const metas = (await Promise.all(ids.map((id) => plane.runs.getMeta(id)))).filter((m) => m !== undefined);
        if (flags.json) {
          process.stdout.write(JSON.stringify(metas.map(publicRunMeta)) + '\n');
          return;
        }
        if (metas.length === 0) process.stdout.write('no runs\n');
        for (const meta of metas) {
          process.stdout.write(
            `${meta.config.runId}  ${meta.status.padEnd(10)} ${meta.terminal}/${meta.total ?? '?'}  failed ${meta.counts.failed}  $${meta.costUsd.toFixed(2)}\n`,
          );
        }
      } finally {
        await plane.close();
      }
    });
}
