import { UnrecoverableError, Worker, type Job } from 'bullmq';
import { createModelPreflight } from '../lanes/preflight-model.js';
import { fireSchedule } from '../schedules/fire-schedule.js';
import { SCHEDULE_QUEUE, type ScheduledRunData } from '../schedules/schedule-queue.js';
import type { Logger } from 'pino';
import { createGeminiClient } from '../gemini/gemini-client.js';
import { routeModelCalls } from '../lanes/model-router.js';
import { createProtocolCaller } from '../protocols/protocol-callers.js';
import type { GatewaySettings } from '../protocols/gateway-settings.js';
import { abandonShard, createBatchProcessor } from '../lanes/batch/batch-processor.js';
import { readShardState } from '../lanes/batch/shard-state.js';
import type { BatchJobData } from '../lanes/batch/batch-queue.js';
import { errorCodeOf, toErrorRecord } from '../errors/bunch-error.js';
import type { ErrorCode } from '../errors/error-code.js';
import { RunContextCache, type ObjectStoreOpener } from '../lanes/run-context-cache.js';
import { createGenerateProcessor } from '../lanes/sync/generate-processor.js';
import type { GenerateJobData } from '../lanes/sync/generate-job-data.js';
import { promoteDelayedJobs } from '../lanes/sync/promote-delayed-jobs.js';
import { adoptOrphanedRuns } from '../lanes/adopt-orphaned-runs.js';
import { openRunQueues, requestFinalize } from '../lanes/run-queues.js';
import { createRedisConnection, waitForRedis } from '../redis/redis-connection.js';
import { createOutageReporter } from '../redis/outage-reporter.js';
import { isConnectionError } from '../redis/is-connection-error.js';
import { openRedisProbe, type RedisProbe } from '../redis/redis-probe.js';
import { givenUpSweepLockKey, givenUpSweepPlaceKey } from '../runs/run-keys.js';
import { RunStore } from '../runs/run-store.js';
import { assertTopologyFits } from '../redis/assert-topology-fits.js';
import { createBatchWorker } from './batch-worker.js';
import { createFinalizeWorker } from './finalize-worker.js';
import { createReportWorker } from './report-worker.js';
import { createGenerateWorker } from './generate-worker.js';
import { delay, InFlightJobs } from './in-flight-jobs.js';
import { GIVEN_UP_SWEEP_MS, GivenUpSweep } from './given-up-sweep.js';
import { givenUpItems } from './given-up-items.js';
import { SHARD_SWEEP_GRACE_MS, SWEEP_GRACE_MS, SWEEP_LOCK_MS, sweepGivenUpJobs } from './sweep-given-up-jobs.js';
import { redisSweepPlace } from './sweep-place.js';
import { whileLocked } from '../runs/while-locked.js';
import { instrumentModelCalls } from '../metrics/instrument-model-calls.js';
import type { WorkerMetrics } from '../metrics/worker-metrics.js';

export interface StartWorkersOptions {
  redisUrl: string;
  prefix: string;
  concurrency: number;
  gemini: { baseUrl: string; apiKey: string; readWholeBody?: boolean };
  /** Gateways' OpenAI- and Claude-compatible endpoints, for runs whose job names `protocol: openai | anthropic`. */
  gateways?: GatewaySettings;
  /** Counts what this process does, for `/metrics` (bunch worker --metrics-port). */
  metrics?: WorkerMetrics;
  openStore: ObjectStoreOpener;
  logger: Logger;
  /** How long start-up waits for Redis to answer before giving up (default 30 s). */
  redisStartupTimeoutMs?: number;
  /** Shorter lock/stall timings let tests observe crash recovery in seconds instead of a minute. */
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  /** Shard jobs of the batch lane handled at once by this process. Default 4. */
  batchConcurrency?: number;
  /** Sync lane: how long a job waits before looking again at an output claimed elsewhere (default 5 s). */
  claimRecheckMs?: number;
  /** Sync lane: the longest queue-wide pause a 429 may cause (default 5 min). */
  queuePauseCapMs?: number;
  /** Sync lane: overall deadline of one delivery (default the call timeout + 60 s). */
  jobDeadlineMs?: number;
  /** Webhooks (job `notify`) may go to private and loopback addresses (BUNCH_NOTIFY_ALLOW_PRIVATE=1). */
  allowPrivateWebhooks?: boolean;
  /** Schedules with overlap `queue`: how often a waiting firing looks again (default 30 s). */
  scheduleQueueRecheckMs?: number;
  /** How often the failed sets are swept for items nobody recorded and shards nobody salvaged (default 60 s; sweep-given-up-jobs.ts). */
  givenUpSweepMs?: number;
  /** How old a failed job must be before a sweep records it (default 30 s). */
  givenUpSweepGraceMs?: number;
}

export interface WorkerFleet {
  workers: Worker[];
  /** Stops taking jobs, waits for in-flight ones to finish, closes connections. */
  close(): Promise<void>;
  /** True when Redis answers a PING within `timeoutMs` (asked on a probe connection of its own). */
  redisAnswers(timeoutMs: number): Promise<boolean>;
  /**
   * Drops the connections at once, for when close() cannot finish (Redis gone). Items in flight
   * keep their BullMQ locks until they expire and are then picked up again by another worker.
   */
  abandon(): void;
}

/** Wires library code to BullMQ for one worker process: the generate, batch and finalize workers. */
export async function startWorkers(options: StartWorkersOptions): Promise<WorkerFleet> {
  const { logger, prefix } = options;
  // Workers ride out Redis outages (ioredis reconnects forever): one JSON warning per 10 s while
  // Redis is gone, one line when it is back (outage-reporter.ts), never a raw stack trace.
  const outage = createOutageReporter(logger, options.redisUrl);
  const workerConnection = createRedisConnection(options.redisUrl, 'worker');
  const commandConnection = createRedisConnection(options.redisUrl, 'worker');
  for (const connection of [workerConnection, commandConnection]) outage.watch(connection);
  // Opened when shutdown asks whether Redis answers (close-fleet.ts); see redis-probe.ts for why
  // the working connections cannot tell.
  let probe: RedisProbe | undefined;
  try {
    // At start-up, though, a Redis that never answers is a configuration error worth stopping for.
    await waitForRedis(commandConnection, options.redisUrl, options.redisStartupTimeoutMs ?? 30_000);
    await assertTopologyFits(commandConnection, options.redisUrl, prefix);
  } catch (error) {
    workerConnection.disconnect();
    commandConnection.disconnect();
    throw error;
  }
  const runs = new RunStore(commandConnection, prefix);
  const queues = openRunQueues(commandConnection, prefix);
  const contexts = new RunContextCache(runs, options.openStore);
  const gemini = createGeminiClient({ baseUrl: options.gemini.baseUrl, apiKey: options.gemini.apiKey, readWholeBody: options.gemini.readWholeBody === true });
  // Runs on a gateway protocol get that protocol's client; its settings come from this process's
  // environment (a run never carries keys), with the Gemini key when the gateway's own is unset.
  const routed = routeModelCalls(gemini, (protocol) => createProtocolCaller(protocol, gatewaySettingsFor(protocol, options)));
  const { metrics } = options;
  const model = metrics ? instrumentModelCalls(routed, metrics) : routed;
  if (metrics) {
    runs.records.onRecorded((record) => metrics.itemRecorded(record));
    metrics.watchQueues({ generate: queues.generate, batch: queues.batch, finalize: queues.finalize, report: queues.report });
  }

  const onRunComplete = (runId: string) => requestFinalize(queues.finalize, runId);
  const inFlight = new InFlightJobs();
  const processor = createGenerateProcessor({
    runs,
    contexts,
    model,
    generateQueue: queues.generate,
    onRunComplete,
    onRunStopped: async (runId) => {
      await promoteDelayedJobs(queues.generate, runId);
    },
    logger,
    ...(options.claimRecheckMs !== undefined ? { claimRecheckMs: options.claimRecheckMs } : {}),
    ...(options.queuePauseCapMs !== undefined ? { queuePauseCapMs: options.queuePauseCapMs } : {}),
    ...(options.jobDeadlineMs !== undefined ? { jobDeadlineMs: options.jobDeadlineMs } : {}),
    ...(metrics ? { onQueuePaused: () => metrics.queuePauses.inc() } : {}),
  });

  const generate = createGenerateWorker({
    connection: workerConnection,
    prefix,
    concurrency: options.concurrency,
    processor: inFlight.track(processor),
    ...(options.lockDurationMs !== undefined ? { lockDurationMs: options.lockDurationMs } : {}),
    ...(options.stalledIntervalMs !== undefined ? { stalledIntervalMs: options.stalledIntervalMs } : {}),
  });
  const finalize = createFinalizeWorker({
    connection: workerConnection,
    prefix,
    runs,
    contexts,
    generateQueue: queues.generate,
    onRunComplete,
    reportQueue: queues.report,
    logger,
    allowPrivateWebhooks: options.allowPrivateWebhooks ?? false,
  });
  const report = createReportWorker({ connection: workerConnection, prefix, contexts, logger });

  const batchDeps = {
    runs,
    contexts,
    client: gemini,
    generateQueue: queues.generate,
    batchQueue: queues.batch,
    logger,
    onRunComplete,
  };
  const batch = createBatchWorker({
    connection: workerConnection,
    prefix,
    concurrency: options.batchConcurrency ?? 4,
    processor: inFlight.track(createBatchProcessor(batchDeps)),
    ...(options.lockDurationMs !== undefined ? { lockDurationMs: options.lockDurationMs } : {}),
    ...(options.stalledIntervalMs !== undefined ? { stalledIntervalMs: options.stalledIntervalMs } : {}),
  });
  // Work started from BullMQ events (recording exhausted jobs, salvaging abandoned shards):
  // close() waits for it before dropping connections, so a drain never loses a record.
  const pendingWork = new Set<Promise<unknown>>();
  const track = (work: Promise<unknown>) => {
    pendingWork.add(work);
    void work.finally(() => pendingWork.delete(work));
  };
  batch.on('failed', (job: Job<BatchJobData> | undefined, error: Error) => {
    if (!job || !isFinalFailure(job, error)) return;
    track(
      abandonShard(batchDeps, job.data.runId, job.data.shard, error.message).catch((cause: unknown) =>
        logger.error({ err: cause, jobId: job.id }, 'could not salvage an abandoned batch shard'),
      ),
    );
  });

  // An item BullMQ gave up on without the processor recording it must still be recorded, or its
  // run never completes (given-up-items.ts). BullMQ (>= 6) fails a job that stalled more often
  // than allowed in the worker that fetches it next, with an UnrecoverableError and before any
  // processor runs, so this worker's own `failed` event sees it; no event stream needs reading
  // (reading it cost every item a blocking XREAD).
  const givenUp = givenUpItems({ runs, contexts, generateQueue: queues.generate, onRunComplete, logger, apiKey: options.gemini.apiKey });
  const recordGivenUp = (job: Job<GenerateJobData>, code: ErrorCode, reason: string): Promise<void> => {
    const pending = givenUp.record(job, code, reason).catch((cause: unknown) => logger.error({ err: cause, jobId: job.id }, 'could not record a job BullMQ gave up on'));
    track(pending);
    return pending;
  };
  generate.on('failed', (job: Job<GenerateJobData> | undefined, error: Error) => {
    if (!job || !isFinalFailure(job, error)) return;
    if (isBullmqVerdict(error)) void recordGivenUp(job, 'E_INTERNAL', `BullMQ gave up on this job: ${error.message}`);
    else void recordGivenUp(job, errorCodeOf(error), error.message);
  });
  // The events are heard only by the process that failed the job; should it die before recording
  // the item or salvaging the shard, a sweep of the failed sets finds the job
  // (sweep-given-up-jobs.ts): at start and then at intervals, each pass looking at failures since
  // the last first, then going on where the last stopped (kept in Redis, sweep-place.ts). One
  // fleet process sweeps at a time (a lock). A sweep and the `failed` handler of a slow process
  // can still salvage one shard at once: salvaging is safe to repeat, and the shard is settled
  // (its reservation given back) once.
  const onJobError = (job: Job, error: unknown) => logger.error({ err: toErrorRecord(error), jobId: job.id }, 'sweep could not handle a failed job');
  const sweepOptions = { onJobError, ...(options.givenUpSweepGraceMs !== undefined ? { graceMs: options.givenUpSweepGraceMs } : {}) };
  // A shard's own handler may still be cancelling its batch upstream (a 60 s call) well after the
  // failure: the sweep waits longer for shards than for items before it salvages one itself.
  const shardSweepOptions = { onJobError, graceMs: options.givenUpSweepGraceMs ?? SHARD_SWEEP_GRACE_MS };
  const generatePlace = redisSweepPlace(commandConnection, givenUpSweepPlaceKey(prefix, queues.generate.name));
  const batchPlace = redisSweepPlace(commandConnection, givenUpSweepPlaceKey(prefix, queues.batch.name));
  // The same pass ends runs whose planner died mid-planning (adopt-orphaned-runs.ts): one process
  // at a time, under the sweep's lock.
  const sweepFailedSets = async (signal: AbortSignal): Promise<number> => {
    const handed =
      (await sweepGivenUpJobs(queues.generate, commandConnection, runs, givenUp.sweep, { ...sweepOptions, signal, place: generatePlace })) +
      (signal.aborted ? 0 : await sweepGivenUpJobs(queues.batch, commandConnection, runs, {
        unhandled: async (job) => ((await readShardState(runs, job.data.runId, job.data.shard))?.phase ?? 'done') !== 'done',
        handle: (job) => abandonShard(batchDeps, job.data.runId, job.data.shard, `BullMQ failed this shard job and it was not salvaged: ${job.failedReason ?? 'no reason given'}`),
      }, { ...shardSweepOptions, signal, place: batchPlace }));
    // After the failed sets: what this pass recorded there counts before an adopted run is settled.
    if (!signal.aborted) {
      await adoptOrphanedRuns(commandConnection, runs, queues, logger, { quietMs: options.givenUpSweepGraceMs ?? SWEEP_GRACE_MS, unhandledFailure: givenUp.sweep.unhandled });
    }
    return handed;
  };
  const sweep = new GivenUpSweep(
    // The lock is renewed while a pass runs (its cancel calls can take minutes); a pass whose lock
    // was lost stops after the job in hand, as one told to stop by close().
    async (signal) => (await whileLocked(commandConnection, givenUpSweepLockKey(prefix), SWEEP_LOCK_MS, (lost) => sweepFailedSets(AbortSignal.any([signal, lost])))) ?? 0,
    options.givenUpSweepMs ?? GIVEN_UP_SWEEP_MS,
    (error) => (isConnectionError(error) ? outage.onError(error) : logger.warn({ err: toErrorRecord(error) }, 'sweep of failed jobs did not finish')),
    (handed) => logger.warn({ jobs: handed }, 'handled jobs BullMQ failed with nobody recording their items or salvaging their shards'),
  );
  // Schedules (bunch schedule add) fire in the fleet itself: the job file is read at fire time.
  const preflight = createModelPreflight(gemini, (message) => logger.warn(message));
  const schedules = new Worker<ScheduledRunData>(
    SCHEDULE_QUEUE,
    inFlight.track((job: Job<ScheduledRunData>, token?: string) =>
      fireSchedule(job, token, {
        redis: commandConnection,
        prefix,
        runs,
        queues,
        openStore: options.openStore,
        logger,
        preflight: (modelId) => preflight(modelId, 'sync'),
        ...(options.scheduleQueueRecheckMs !== undefined ? { queueRecheckMs: options.scheduleQueueRecheckMs } : {}),
      }),
    ),
    { connection: workerConnection, prefix, concurrency: 1 },
  );
  for (const worker of [generate, finalize, batch, schedules, report]) {
    // A BullMQ worker reports its connection's trouble too: that is the outage, already reported.
    worker.on('error', (error) =>
      isConnectionError(error) ? outage.onError(error) : logger.error({ err: { name: error.name, message: error.message } }, 'worker error'),
    );
  }
  await Promise.all([generate.waitUntilReady(), finalize.waitUntilReady(), batch.waitUntilReady(), schedules.waitUntilReady(), report.waitUntilReady()]);
  logger.info({ concurrency: options.concurrency, prefix }, 'workers ready');
  sweep.start();

  return {
    workers: [generate, finalize, batch, schedules, report],
    async close() {
      const workers = [generate, finalize, batch, schedules, report];
      // close() stops fetching and waits for active jobs. After a long Redis outage a worker's
      // blocking connection can stay parked (a BullMQ/ioredis reconnect quirk) and its close()
      // never returns; so once this process has no job of its own in flight, the rest is given
      // 2 s and then forced. What matters — in-flight items finishing and being recorded — is
      // waited for in full.
      const closing = Promise.all(workers.map((worker) => worker.close()));
      closing.catch(() => undefined);
      // Workers stop fetching first; then a sweep under way is waited for (bounded).
      await sweep.stop();
      await inFlight.idle();
      const settled = await Promise.race([closing.then(() => true, () => true), delay(2000).then(() => false)]);
      if (!settled) {
        logger.debug('worker connections did not close after the last job; forcing them');
        await Promise.race([Promise.all(workers.map((worker) => worker.close(true))), delay(2000)]);
      }
      await Promise.race([Promise.all(pendingWork), delay(10_000)]);
      await Promise.race([queues.close(), delay(2000)]);
      await contexts.close();
      workerConnection.disconnect();
      commandConnection.disconnect();
      probe?.close();
    },
    redisAnswers(timeoutMs: number) {
      probe ??= openRedisProbe(options.redisUrl);
      return probe.answers(timeoutMs);
    },
    abandon() {
      void sweep.stop();
      workerConnection.disconnect();
      commandConnection.disconnect();
      probe?.close();
    },
  };
}

/**
 * A `failed` event that leaves the job failed for good: its attempts are used up, or BullMQ gave
 * its verdict (UnrecoverableError), which ends the job whatever attempts are left. Waits for a
 * rate limit or a delay are not failures.
 */
function isFinalFailure(job: Job, error: Error): boolean {
  if (error.name === 'RateLimitError' || error.name === 'DelayedError') return false;
  return isBullmqVerdict(error) || job.attemptsMade >= (job.opts.attempts ?? 1);
}

/** BullMQ's own verdicts (a job stalled or started more often than allowed); bunch never throws these. */
function isBullmqVerdict(error: Error): boolean {
  return error instanceof UnrecoverableError || error.name === 'UnrecoverableError';
}

function gatewaySettingsFor(protocol: 'openai' | 'anthropic', options: StartWorkersOptions): GatewaySettings[typeof protocol] {
  const settings = options.gateways?.[protocol];
  return { baseUrl: settings?.baseUrl, apiKey: settings?.apiKey ?? options.gemini.apiKey, ...(protocol === 'openai' ? { mode: options.gateways?.openai.mode ?? 'images' } : {}) } as GatewaySettings[typeof protocol];
}
