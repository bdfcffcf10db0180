import type { Command } from 'commander';
import { parseDuration } from '../../spec/parse-duration.js';
import { BunchError } from '../../errors/bunch-error.js';
import { startRun } from '../../lanes/start-run.js';
import { createGeminiClient } from '../../gemini/gemini-client.js';
import { createModelPreflight, type ModelPreflight } from '../../lanes/preflight-model.js';
import type { Logger } from 'pino';
import { requestFinalize } from '../../lanes/run-queues.js';
import { loadJobFile } from '../../spec/load-job-file.js';
import { openObjectStore } from '../../storage/open-object-store.js';
import { closeFleetWithin } from '../../workers/close-fleet.js';
import { startWorkers, type WorkerFleet } from '../../workers/start-workers.js';
import { createLogger } from '../../logging/create-logger.js';
import { openControlPlane } from '../control-plane.js';
import { createOutageReporter } from '../../redis/outage-reporter.js';
import { requireApiKey, requireRedisUrl, resolveSettings } from '../resolve-settings.js';
import { EXIT } from '../exit-codes.js';
import { followRun } from '../follow-run.js';
import { describeRun } from '../describe-run.js';
import { planPreview } from '../plan-preview.js';
import { describePreview } from '../describe-preview.js';
import { strictModeError } from '../../lanes/strict-mode-error.js';

interface RunFlags {
  wait?: boolean;
  json?: boolean;
  dryRun?: boolean;
  redisUrl?: string;
  prefix?: string;
  workers?: string | boolean;
  /** false with `--no-preflight`. */
  preflight?: boolean;
  outageLimit?: string;
}

export function registerRunCommand(program: Command, setExitCode: (code: number) => void): void {
  program
    .command('run')
    .description('start a run of a job file: plan the catalog, skip unchanged items, enqueue the rest')
    .argument('<job>', 'job file (YAML or JSON)')
    .option('--wait', 'follow the run with a progress bar; exit 0 only if it succeeds within its failure threshold')
    .option('--workers [concurrency]', 'also process the run in this process (default concurrency: the job\'s sync.concurrency); implies --wait')
    .option('--dry-run', 'plan only: count items and rejected rows, estimate cost; touches no Redis and no model')
    .option('--json', 'print machine-readable JSON on stdout')
    .option('--redis-url <url>', 'Redis URL (env REDIS_URL)')
    .option('--prefix <prefix>', 'key prefix for queues and run state (env BUNCH_PREFIX, default "bunch")')
    .option('--outage-limit <duration>', 'with --wait: how long to keep following through a Redis outage (env BUNCH_FOLLOW_OUTAGE_LIMIT_MS, default 10m)')
    .option('--no-preflight', 'skip the models.get check of the job\'s model before the run is created')
    .action(async (jobFile: string, flags: RunFlags) => {
      const job = await loadJobFile(jobFile);
      const settings = resolveSettings({ redisUrl: flags.redisUrl, prefix: flags.prefix, concurrency: flags.workers, concurrencyFlag: '--workers' }, process.env, job);
      const openStore = (url: string) => openObjectStore(url, { s3: settings.s3 });
      const outageToleranceMs = flags.outageLimit === undefined ? settings.followOutageLimitMs : parseDuration(flags.outageLimit);
      if (outageToleranceMs === undefined || outageToleranceMs < 1000) throw new BunchError('E_CONFIG', `--outage-limit ${flags.outageLimit} is not a duration of at least 1 s (e.g. 10m)`);
      if (flags.dryRun) {
        const preview = await planPreview(job, openStore, { allowPrivateReferences: settings.allowPrivateReferences });
        print(flags.json, preview, () => describePreview(preview));
        // What the real run would do: a strict job with rejected rows is refused (exit 2).
        const first = preview.rejections[0];
        if (job.strict && first) throw strictModeError(preview.rejectedRows, first);
        return;
      }
      const logger = createLogger({ level: settings.logLevel });
      const prefix = settings.prefix;
      const redisUrl = requireRedisUrl(settings);
      const plane = await openControlPlane(redisUrl, prefix);
      let fleet: WorkerFleet | undefined;
      try {
        if (flags.workers) {
          fleet = await startWorkers({
            redisUrl,
            prefix,
            concurrency: settings.concurrency,
            gemini: { baseUrl: settings.geminiBaseUrl, apiKey: requireApiKey(settings) },
            gateways: settings.gateways,
            ...(settings.lockDurationMs !== undefined ? { lockDurationMs: settings.lockDurationMs } : {}),
            ...(settings.stalledIntervalMs !== undefined ? { stalledIntervalMs: settings.stalledIntervalMs } : {}),
            openStore,
            logger,
            allowPrivateWebhooks: settings.allowPrivateWebhooks,
          });
        }
        const preflight = flags.preflight === false ? undefined : modelPreflight(settings.geminiBaseUrl, settings.geminiApiKey, logger);
        const started = await startRun(job, { runs: plane.runs, queues: plane.queues, openStore, logger, preflight }, {
          allowPrivateReferences: settings.allowPrivateReferences,
        });
        if (!flags.wait && !flags.workers) {
          print(flags.json, started, () =>
            `run ${started.runId} started: ${started.items} items (${started.enqueued} enqueued, ${started.skipped} already stored), ` +
            `${started.rejected} rejected rows${started.referencesFetched ? `, ${started.referencesFetched} reference images fetched` : ''}\nfollow it with: bunch status ${started.runId}`,
          );
          return;
        }
        // A Redis restart or failover is waited out, as the workers do (up to outageToleranceMs).
        // The log gets the outage reporter's JSON lines (an in-process fleet has its own reporter);
        // a terminal sees it on the progress line; without one, stderr gets a line every 10 s.
        if (!fleet) createOutageReporter(logger, redisUrl).watch(plane.redis);
        const progress = !flags.json && process.stderr.isTTY;
        let lastNotice = -Infinity;
        const meta = await followRun(plane.runs, started.runId, {
          outageToleranceMs,
          progress,
          logger,
          requestFinalize: (id) => requestFinalize(plane!.queues.finalize, id),
          onRedisTrouble: (error, downForMs) => {
            if (progress || downForMs - lastNotice < 10_000) return;
            lastNotice = downForMs;
            process.stderr.write(
              `bunch: Redis unreachable for ${Math.round(downForMs / 1000)} s (${error.message}); still following run ${started.runId} ` +
                `for up to ${describeLimit(outageToleranceMs)} (the run continues on the workers)\n`,
            );
          },
        });
        print(flags.json, { ...started, status: meta.status, counts: meta.counts, costUsd: meta.costUsd }, () => describeRun(meta));
        setExitCode(meta.status === 'succeeded' ? EXIT.ok : EXIT.runFailed);
      } finally {
        if (fleet) await closeFleetWithin(fleet, settings.shutdownGraceMs, logger);
        await plane.close();
      }
    });
}

/** models.get through the configured endpoint; without a key here (workers elsewhere hold it) the check is skipped, saying so. */
function modelPreflight(baseUrl: string, apiKey: string | undefined, logger: Logger): ModelPreflight {
  if (!apiKey) return async () => void logger.warn('model preflight skipped: GEMINI_API_KEY is not set in this process');
  const client = createGeminiClient({ baseUrl, apiKey });
  return createModelPreflight(client, (message) => logger.warn(message));
}

/** "10 min", "90 s": the outage limit as an operator wrote it, near enough. */
function describeLimit(ms: number): string {
  return ms % 60_000 === 0 ? `${ms / 60_000} min` : `${Math.round(ms / 1000)} s`;
}

function print(json: boolean | undefined, value: unknown, human: () => string): void {
  process.stdout.write(json ? JSON.stringify(value) + '\n' : human() + '\n');
}
