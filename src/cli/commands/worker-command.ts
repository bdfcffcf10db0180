import type { Command } from 'commander';
import { createLogger } from '../../logging/create-logger.js';
import { openObjectStore } from '../../storage/open-object-store.js';
import { closeFleetWithin } from '../../workers/close-fleet.js';
import { EXIT } from '../exit-codes.js';
import { startWorkers } from '../../workers/start-workers.js';
import { untilShutdownSignal } from '../../workers/until-shutdown-signal.js';
import { requireApiKey, requireRedisUrl, resolveSettings } from '../resolve-settings.js';
import { BunchError } from '../../errors/bunch-error.js';
import { startMetricsServer, type MetricsServer } from '../../metrics/metrics-server.js';
import { WorkerMetrics } from '../../metrics/worker-metrics.js';

interface WorkerFlags {
  concurrency?: string;
  metricsPort?: string;
  metricsHost?: string;
  redisUrl?: string;
  prefix?: string;
}

export function registerWorkerCommand(program: Command, setExitCode: (code: number) => void = () => undefined): void {
  program
    .command('worker')
    .description(
      'process items of every run on the queue. SIGTERM/SIGINT: stop taking items, give those in flight up to ' +
        'BUNCH_SHUTDOWN_GRACE_MS (default 30 s), then exit 0 (what is left is taken up by another worker); ' +
        'with Redis unreachable exit 3 within 10 s; a second signal exits at once',
    )
    .option('-c, --concurrency <n>', 'concurrent model calls in this process (env BUNCH_CONCURRENCY, default 8)')
    .option('--metrics-port <port>', 'serve Prometheus metrics on GET /metrics at this port (0: any free port)')
    .option('--metrics-host <host>', 'address the metrics port listens on', '127.0.0.1')
    .option('--redis-url <url>', 'Redis URL (env REDIS_URL)')
    .option('--prefix <prefix>', 'key prefix (env BUNCH_PREFIX, default "bunch")')
    .action(async (flags: WorkerFlags) => {
      const metricsPort = flags.metricsPort === undefined ? undefined : Number(flags.metricsPort);
      if (metricsPort !== undefined && (!Number.isInteger(metricsPort) || metricsPort < 0 || metricsPort > 65535)) {
        throw new BunchError('E_CONFIG', `--metrics-port must be a port number from 0 to 65535, not ${JSON.stringify(flags.metricsPort)}`);
      }
      const settings = resolveSettings({ ...flags, concurrencyFlag: '--concurrency' });
      const logger = createLogger({ level: settings.logLevel });
      const metrics = metricsPort === undefined ? undefined : new WorkerMetrics();
      // Bound before the fleet starts: a taken port stops the worker before it takes any item.
      let server: MetricsServer | undefined;
      if (metrics && metricsPort !== undefined) {
        server = await startMetricsServer(metrics.registry, metricsPort, flags.metricsHost);
        logger.info({ metrics: server.url }, 'metrics served');
      }
      const fleet = await startWorkers({
        ...(metrics ? { metrics } : {}),
        redisUrl: requireRedisUrl(settings),
        prefix: settings.prefix,
        concurrency: settings.concurrency,
        // BUNCH_GEMINI_WHOLE_BODY=1: the pre-streaming answer reading, for bench:sync's memory part.
        gemini: { baseUrl: settings.geminiBaseUrl, apiKey: requireApiKey(settings), readWholeBody: process.env.BUNCH_GEMINI_WHOLE_BODY === '1' },
        gateways: settings.gateways,
        openStore: (url) => openObjectStore(url, { s3: settings.s3 }),
        logger,
        allowPrivateWebhooks: settings.allowPrivateWebhooks,
        // Advanced: BullMQ lock/stall timings. Shorter values recover crashed workers' items sooner
        // at the cost of more Redis traffic.
        ...(settings.lockDurationMs !== undefined ? { lockDurationMs: settings.lockDurationMs } : {}),
        ...(settings.stalledIntervalMs !== undefined ? { stalledIntervalMs: settings.stalledIntervalMs } : {}),
      });
      const signal = await untilShutdownSignal();
      await server?.close();
      logger.info({ signal, graceMs: settings.shutdownGraceMs }, 'draining: finishing in-flight items before exit');
      const outcome = await closeFleetWithin(fleet, settings.shutdownGraceMs, logger);
      logger.info({ outcome }, 'worker stopped');
      // Exit 3 tells an orchestrator the stop was not clean because Redis was unreachable.
      if (outcome === 'redis-unreachable') setExitCode(EXIT.infrastructure);
    });
}
