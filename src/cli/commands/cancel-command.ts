import type { Command } from 'commander';
import { BunchError } from '../../errors/bunch-error.js';
import { cancelRun } from '../../lanes/cancel-run.js';
import { openControlPlane } from '../control-plane.js';
import { requireRedisUrl, resolveSettings } from '../resolve-settings.js';

export function registerCancelCommand(program: Command): void {
  program
    .command('cancel')
    .description('cancel a run: queued items are recorded cancelled without a call; in-flight calls finish')
    .argument('<runId>')
    .option('--json', 'print machine-readable JSON on stdout')
    .option('--redis-url <url>', 'Redis URL (env REDIS_URL)')
    .option('--prefix <prefix>', 'key prefix (env BUNCH_PREFIX, default "bunch")')
    .action(async (runId: string, flags: { json?: boolean; redisUrl?: string; prefix?: string }) => {
      const settings = resolveSettings(flags);
      const plane = await openControlPlane(requireRedisUrl(settings), settings.prefix);
      try {
        if (!(await plane.runs.getMeta(runId))) throw new BunchError('E_NOT_FOUND', `run ${runId} is not known to this Redis`);
        const result = await cancelRun(plane.runs, plane.queues, runId);
        const text = result.ended
          ? `run ${runId} has already ended (${result.ended}): nothing to cancel`
          : `run ${runId}: cancel requested (${result.promoted} delayed retries and ${result.batches} batch shards released; workers cancel the upstream batches)`;
        process.stdout.write(flags.json ? JSON.stringify({ runId, ...result }) + '\n' : text + '\n');
      } finally {
        await plane.close();
      }
    });
}
