import type { Command } from 'commander';
import { createLogger } from '../../logging/create-logger.js';
import { openObjectStore } from '../../storage/open-object-store.js';
import { startWorkers } from '../../../workers/start-workers.js';
import { untilShutdownSignal } from '../../../workers/until-shutdown-signal.js';
import { readEnvironment, requireApiKey, requireRedisUrl } from '../environment.js';
import { integerFlag } from '../number-flag.js';

interface WorkerFlags {
  concurrency: string;
  redisUrl?: string;
  prefix?: string;
}

export function registerWorkerCommand(program: Command): void {
  program
    .command('worker')
    .description('process items of every run on the queue; SIGTERM/SIGINT finish in-flight calls, then exit')
    .option('-c, --concurrency <n>', 'concurrent model calls in this process (env BUNCH_CONCURRENCY)', process.env.BUNCH_CONCURRENCY ?? '8')
    .option('--redis-url <url>', 'Redis URL (env REDIS_URL)')
    .option('--prefix <prefix>', 'key prefix (env BUNCH_PREFIX, default "bunch")')
    .action(async (flags: WorkerFlags) => {
      const environment = readEnvironment();
      const logger = createLogger({ level: environment.logLevel });
      const fleet = await startWorkers({
        redisUrl: requireRedisUrl(flags.redisUrl, environment),
        prefix: flags.prefix ?? environment.prefix,
        concurrency: integerFlag('--concurrency (or BUNCH_CONCURRENCY)', flags.concurrency, { min: 1, max: 1000 }),
        gemini: { baseUrl: environment.geminiBaseUrl, apiKey: requireApiKey(environment) },
        openStore: (url) => openObjectStore(url, { s3: environment.s3 }),
        logger,
        // Advanced: BullMQ lock/stall timings (ms). Shorter values recover crashed workers' items
        // sooner at the cost of more Redis traffic. Locks are renewed during long calls, so these
        // need only exceed the longest event-loop stall, not the 35 s call timeout.
        ...optionalNumber('lockDurationMs', process.env.BUNCH_LOCK_DURATION_MS),
        ...optionalNumber('stalledIntervalMs', process.env.BUNCH_STALLED_INTERVAL_MS),
      });
      const signal = await untilShutdownSignal();
      logger.info({ signal }, 'draining: finishing in-flight items before exit');
      await fleet.close();
      logger.info('worker stopped');
    });
}

function optionalNumber<K extends string>(name: K, value: string | undefined): Partial<Record<K, number>> {
  return value ? ({ [name]: Number(value) } as Record<K, number>) : {};
}
