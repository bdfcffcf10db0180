import type { Job } from 'bullmq';
import path from 'node:path';
import { openControlPlane } from '../../src/cli/control-plane.js';
import { startRun } from '../../src/lanes/start-run.js';
import type { FinalizeJobData } from '../../src/lanes/sync/generate-job-data.js';
import { FINALIZE_QUEUE } from '../../src/lanes/run-queues.js';
import { silentLogger } from '../../src/logging/create-logger.js';
import { newRunId } from '../../src/runs/run-id.js';
import { loadJobFile } from '../../src/spec/load-job-file.js';
import type { ObjectStore } from '../../src/storage/object-store.js';
import { openObjectStore } from '../../src/storage/open-object-store.js';
import { startWorkers } from '../../src/workers/start-workers.js';
import { countRedisCommands } from './redis-command-count.js';
import { writeBenchJob, type BenchJobOptions } from './bench-job.js';
import type { BenchServices } from './bench-services.js';
import type { ThroughputSample } from './raw-bullmq-noop.js';
import { readRunManifest, waitForRun } from './wait-for-run.js';

/**
 * Candidate (c): bunch's sync lane end to end, as an operator runs it: workers (in this process,
 * like the tests) are already waiting; the clock runs from `startRun` (catalog read, planning,
 * storage check, enqueue) until the run is finalized (manifest.jsonl and summary.json written).
 * Every item must succeed, or the numbers would describe a different workload and the part throws.
 */
export interface BunchRunOptions {
  services: BenchServices;
  label: string;
  items: number;
  concurrency: number;
  imageSize: BenchJobOptions['imageSize'];
  /** Called right before the clock starts (workers are up, the job file is loaded). */
  onStart?: () => void;
  /** Also count the Redis commands the run costs (needs the server to itself meanwhile). */
  countCommands?: boolean;
}

export interface BunchRunResult extends ThroughputSample {
  runId: string;
  /** Seconds from startRun to each item's `finishedAt`, ascending. */
  completions: number[];
  /** Redis commands per item (startRun, processing, recording, finalize), when counted. */
  commandsPerItem?: { total: number; scriptCalls: number };
}

export async function runBunchSync(options: BunchRunOptions): Promise<BunchRunResult> {
  const { services } = options;
  const prefix = services.newPrefix(options.label);
  const dir = path.join(services.dir.path, prefix);
  const outputUrl = `file://${path.join(dir, 'out')}`;
  const jobFile = await writeBenchJob({ dir, name: `bench-${options.label}`, items: options.items, imageSize: options.imageSize, outputUrl });
  const job = await loadJobFile(jobFile);
  const logger = silentLogger();
  const stores = new Map<string, ObjectStore>();
  const storeFor = (url: string): ObjectStore => {
    let store = stores.get(url);
    if (!store) stores.set(url, (store = openObjectStore(url)));
    return store;
  };
  const plane = await openControlPlane(services.redis.url, prefix);
  const fleet = await startWorkers({
    redisUrl: services.redis.url,
    prefix,
    concurrency: options.concurrency,
    gemini: { baseUrl: services.emulator.url, apiKey: services.emulator.apiKey ?? 'unused' },
    openStore: (url) => openObjectStore(url),
    logger,
  });
  try {
    // Wait on the finalize job's completion event, not by polling, so the clock stops when the
    // manifest is written and the Redis command count holds the run's commands only.
    const runId = newRunId(job.name);
    const finalizer = fleet.workers.find((worker) => worker.name === FINALIZE_QUEUE);
    if (!finalizer) throw new Error('no finalize worker in the fleet');
    const finalized = new Promise<void>((resolve) => {
      finalizer.on('completed', (finished: Job<FinalizeJobData>) => {
        if (finished.data.runId === runId) resolve();
      });
    });
    // Completion times count from the clock's start (set inside `timed`, after any command count).
    let startedAt = Date.now();
    const timed = async () => {
      startedAt = Date.now();
      const started = performance.now();
      const run = await startRun(job, { runs: plane.runs, queues: plane.queues, openStore: storeFor, logger }, { runId });
      await finalized;
      return { run, seconds: (performance.now() - started) / 1000 };
    };
    options.onStart?.();
    let measured: Awaited<ReturnType<typeof timed>>;
    let commandsPerItem: BunchRunResult['commandsPerItem'];
    if (options.countCommands) {
      const counted = await countRedisCommands(plane.redis, timed);
      measured = counted.result;
      commandsPerItem = { total: counted.commands.total / options.items, scriptCalls: counted.commands.scriptCalls / options.items };
    } else {
      measured = await timed();
    }
    const { run, seconds } = measured;
    await waitForRun(plane.runs, run.runId, options.items);
    const completions = (await readRunManifest(storeFor(run.outputUrl), run.runId))
      .map((line) => ('finishedAt' in line ? (Date.parse(line.finishedAt) - startedAt) / 1000 : Number.NaN))
      .sort((a, b) => a - b);
    return {
      runId: run.runId,
      items: options.items,
      seconds,
      itemsPerSecond: options.items / seconds,
      completions,
      ...(commandsPerItem ? { commandsPerItem } : {}),
    };
  } finally {
    await fleet.close();
    for (const store of stores.values()) await store.close();
    await plane.queues.generate.obliterate({ force: true });
    await plane.close();
  }
}
