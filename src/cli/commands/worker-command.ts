import type { Command } from 'commander';
import { createLogger } from '../../logging/create-logger.js';
import { openObjectStore } from '../../storage/open-object-store.js';
import { startWorkers } from '../../workers/start-workers.js';
import { untilShutdownSignal } from '../../workers/until-shutdown-signal.js';
import { readEnvironment, requireApiKey, requireRedisUrl } from '../environment.js';
import { integerFlag } from '../number-flag.js';

interface WorkerFlags {
  concurrency?: string;
  redisUrl?: string;
  prefix?: string;
}

export function registerWorkerCommand(program: Command): void {
  program
    .command('worker')
    .description('process items of every run on the queue; SIGTERM/SIGINT finish in-flight calls, then exit')
    .option('-c, --concurrency <n>', 'concurrent model calls in this process (env BUNCH_CONCURRENCY, default 8)')
    .option('--redis-url <url>', 'Redis URL (env REDIS_URL)')
    .option('--prefix <prefix>', 'key prefix (env BUNCH_PREFIX, default "bunch")')
    .action(async (flags: WorkerFlags) => {
      // Flag → environment → default, each checked where it enters.
      const environment = readEnvironment();
      const concurrency =
        flags.concurrency !== undefined ? integerFlag('--concurrency', flags.concurrency, { min: 1, max: 1000 }) : (environment.workerConcurrency ?? 8);
      const logger = createLogger({ level: environment.logLevel });
      const fleet = await startWorkers({
        redisUrl: requireRedisUrl(flags.redisUrl, environment),
        prefix: flags.prefix ?? environment.prefix,
        concurrency,
        gemini: { baseUrl: environment.geminiBaseUrl, apiKey: requireApiKey(environment) },
        openStore: (url) => openObjectStore(url, { s3: environment.s3 }),
        logger,
        // Advanced: BullMQ lock/stall timings. Shorter values recover crashed workers' items sooner
        // at the cost of more Redis traffic.
        ...(environment.lockDurationMs !== undefined ? { lockDurationMs: environment.lockDurationMs } : {}),
        ...(environment.stalledIntervalMs !== undefined ? { stalledIntervalMs: environment.stalledIntervalMs } : {}),
      });
      const signal = await untilShutdownSignal();
      logger.info({ signal }, 'draining: finishing in-flight items before exit');
      await fleet.close();
      logger.info('worker stopped');
    });
}
