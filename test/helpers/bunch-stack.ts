import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { stringify } from 'yaml';
import { startEmulator, type EmulatorOptions, type RunningEmulator } from '../../src/emulator/start-emulator.js';
import { openControlPlane, type ControlPlane } from '../../src/cli/control-plane.js';
import { startRun, type StartRunOptions, type StartedRun } from '../../src/lanes/start-run.js';
import { silentLogger } from '../../src/logging/create-logger.js';
import type { ManifestLine } from '../../src/manifest/manifest-line.js';
import type { RunSummary } from '../../src/manifest/run-summary.js';
import { TERMINAL_RUN_STATUSES } from '../../src/runs/run-config.js';
import type { RunMeta } from '../../src/runs/run-store.js';
import { loadJobFile } from '../../src/spec/load-job-file.js';
import type { ObjectStore } from '../../src/storage/object-store.js';
import { openObjectStore } from '../../src/storage/open-object-store.js';
import type { S3Settings } from '../../src/storage/s3-settings.js';
import { startWorkers, type StartWorkersOptions, type WorkerFleet } from '../../src/workers/start-workers.js';
import { startPrivateRedis } from '../../src/local/start-private-redis.js';
import { startRedis, type RedisHandle } from './start-redis.js';
import { tempDir, type TempDir } from './temp-dir.js';
import { emulatorGateways } from '../../src/protocols/emulator-gateways.js';

/**
 * The real parts a sync-lane test needs, started fresh: a private redis-server, the Gemini
 * emulator over HTTP, workers in this process (more can be started, or run as child processes),
 * and a temp directory for job files, catalogs and local output. Each stack uses its own key
 * prefix, so stacks never see each other's queues even on a shared REDIS_URL.
 */
export interface BunchStack {
  redis: RedisHandle;
  emulator: RunningEmulator;
  plane: ControlPlane;
  prefix: string;
  dir: TempDir;
  s3?: S3Settings;
  startWorkers(overrides?: Partial<StartWorkersOptions>): Promise<WorkerFleet>;
  /** Writes a catalog (CSV text) and a job file; returns the job file path. */
  writeJob(options: JobFixture): Promise<string>;
  /** `options` reach startRun (e.g. a low `autoBatchMinItems` for `lane: auto` tests). */
  start(jobFile: string, options?: StartRunOptions): Promise<StartedRun>;
  waitForRun(runId: string, timeoutMs?: number): Promise<RunMeta>;
  storeFor(outputUrl: string): ObjectStore;
  readManifest(store: ObjectStore, runId: string): Promise<ManifestLine[]>;
  readSummary(store: ObjectStore, runId: string): Promise<RunSummary>;
  stop(): Promise<void>;
}

export interface JobFixture {
  catalogCsv: string;
  /** Fields merged over a default job (prompt over {{title}}, sync lane, local output). */
  job?: Record<string, unknown>;
  /** `file://<abs>` (default: <dir>/out) or `s3://bucket/prefix`. */
  outputUrl?: string;
}

export async function startBunchStack(
  options: {
    emulator?: EmulatorOptions;
    /** An emulator shared with other stacks (e.g. to outlive a "lost" Redis); not closed by stop(). */
    sharedEmulator?: RunningEmulator;
    concurrency?: number;
    s3?: S3Settings;
    /** A private Redis with AOF that the test may crash and restart (ignores REDIS_URL). */
    durableRedis?: boolean;
  } = {},
): Promise<BunchStack> {
  const redis = options.durableRedis ? await startPrivateRedis({ durable: true }) : await startRedis();
  const emulator = options.sharedEmulator ?? (await startEmulator(options.emulator ?? {}));
  const prefix = `t${randomBytes(4).toString('hex')}`;
  const plane = await openControlPlane(redis.url, prefix);
  const dir = await tempDir('stack');
  const fleets: WorkerFleet[] = [];
  const stores = new Map<string, ObjectStore>();
  const logger = silentLogger();
  const storeFor = (url: string) => {
    let store = stores.get(url);
    if (!store) {
      store = openObjectStore(url, options.s3 ? { s3: options.s3 } : {});
      stores.set(url, store);
    }
    return store;
  };

  const stack: BunchStack = {
    redis,
    emulator,
    plane,
    prefix,
    dir,
    ...(options.s3 ? { s3: options.s3 } : {}),
    async startWorkers(overrides = {}) {
      const fleet = await startWorkers({
        redisUrl: redis.url,
        prefix,
        concurrency: options.concurrency ?? 8,
        gemini: { baseUrl: emulator.url, apiKey: emulator.apiKey ?? 'unused' },
        gateways: emulatorGateways(emulator.url, emulator.apiKey ?? 'unused'),
        openStore: (url) => openObjectStore(url, options.s3 ? { s3: options.s3 } : {}),
        logger,
        ...overrides,
      });
      fleets.push(fleet);
      return fleet;
    },
    async writeJob(fixture) {
      const name = `job-${randomBytes(3).toString('hex')}`;
      const catalogFile = path.join(dir.path, `${name}.csv`);
      await writeFile(catalogFile, fixture.catalogCsv);
      const job = {
        name,
        catalog: { path: catalogFile, key: 'sku' },
        model: 'gemini-3.1-flash-image-preview',
        prompt: 'Studio product photo of {{title}}',
        generation: { responseModalities: ['IMAGE', 'TEXT'], imageConfig: { aspectRatio: '1:1', imageSize: '512' } },
        lane: 'sync',
        sync: { attempts: 3, backoff: { initialMs: 50, maxMs: 200, jitter: 0 } },
        output: { url: fixture.outputUrl ?? `file://${path.join(dir.path, 'out')}` },
        // A flat price keeps the cost arithmetic of these tests exact; table pricing has its own tests.
        pricing: { usdPerImage: 0.058 },
        ...fixture.job,
      };
      const jobFile = path.join(dir.path, `${name}.yaml`);
      await writeFile(jobFile, stringify(job));
      return jobFile;
    },
    async start(jobFile, startOptions = {}) {
      const job = await loadJobFile(jobFile);
      return startRun(job, { runs: plane.runs, queues: plane.queues, openStore: storeFor, logger }, startOptions);
    },
    async waitForRun(runId, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const meta = await plane.runs.getMeta(runId);
        if (meta && TERMINAL_RUN_STATUSES.includes(meta.status)) return meta;
        if (Date.now() > deadline) throw new Error(`run ${runId} not finished after ${timeoutMs} ms: ${JSON.stringify(meta)}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    storeFor,
    async readManifest(store, runId) {
      const body = await store.get(`runs/${runId}/manifest.jsonl`);
      if (!body) throw new Error(`no manifest for ${runId}`);
      return body
        .toString('utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as ManifestLine);
    },
    async readSummary(store, runId) {
      const body = await store.get(`runs/${runId}/summary.json`);
      if (!body) throw new Error(`no summary for ${runId}`);
      return JSON.parse(body.toString('utf8')) as RunSummary;
    },
    async stop() {
      for (const fleet of fleets) await fleet.close();
      for (const store of stores.values()) await store.close();
      await plane.close();
      if (!options.sharedEmulator) await emulator.close();
      await redis.stop();
      await dir.remove();
    },
  };
  return stack;
}

/** A CSV catalog of `count` products with keys SKU-0001... and distinct titles. */
export function productCsv(count: number, title: (i: number) => string = (i) => `Product ${i}`): string {
  const rows = ['sku,title'];
  for (let i = 1; i <= count; i += 1) rows.push(`SKU-${String(i).padStart(4, '0')},"${title(i).replace(/"/g, '""')}"`);
  return rows.join('\n') + '\n';
}
