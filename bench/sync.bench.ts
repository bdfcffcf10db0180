/**
 * `npm run bench:sync`: the sync lane's benchmark, every part side by side against one private
 * redis-server and one emulator, file:// storage under a temp dir, numbers as ratios.
 *   --part zero|latency|memory|refs|scale   run only these parts (repeatable or comma-separated; default all)
 *   --json                       also print every number as one JSON document on stdout
 *   --items N                    items per run of the zero part (default 400; more weighs each
 *                                run's planning and finalize less, as a catalog-sized run does)
 * Environment (optional): BENCH_SYNC_PARTS (same as --part).
 * s3rver is not used: on this kind of machine it handles ~240 PUT/s and would measure itself.
 */
import { execFileSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { startBenchServices, type BenchServices } from './sync/bench-services.js';
import { runLatencyBound, type LatencyBoundResult } from './sync/latency-bound.js';
import { formatLatencyBound, formatReferenceImages, formatWorkerMemory, formatZeroLatency } from './sync/print-report.js';
import { runReferenceImages, type ReferenceImagesResult } from './sync/reference-images.js';
import { runWorkerMemory, type WorkerMemoryResult } from './sync/worker-memory.js';
import { formatScaleOut, runScaleOut, type ScaleOutRow } from './sync/scale-out.js';
import { runZeroLatencyComparison, type ZeroLatencyResult } from './sync/zero-latency-comparison.js';

const PARTS = ['zero', 'latency', 'memory', 'refs', 'scale'] as const;
type Part = (typeof PARTS)[number];

interface Report {
  machine: { cpus: number; loadBefore: number[]; loadAfter?: number[]; node: string };
  zeroLatency?: ZeroLatencyResult;
  latencyBound?: LatencyBoundResult;
  workerMemory?: WorkerMemoryResult[];
  referenceImages?: ReferenceImagesResult;
  scaleOut?: ScaleOutRow[];
}

function selectedParts(values: string[]): Part[] {
  const names = values.flatMap((value) => value.split(',')).map((value) => value.trim()).filter(Boolean);
  if (names.length === 0) return [...PARTS];
  for (const name of names) {
    if (!(PARTS as readonly string[]).includes(name)) throw new Error(`unknown part "${name}"; expected one of ${PARTS.join(', ')}`);
  }
  return PARTS.filter((part) => names.includes(part));
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { part: { type: 'string', multiple: true }, json: { type: 'boolean', default: false }, items: { type: 'string' } },
  });
  const fromEnv = process.env.BENCH_SYNC_PARTS ? [process.env.BENCH_SYNC_PARTS] : [];
  const parts = selectedParts(values.part ?? fromEnv);
  const report: Report = { machine: { cpus: cpus().length, loadBefore: loadavg(), node: process.version } };
  console.error(`bench:sync parts ${parts.join(', ')}; ${report.machine.cpus} CPUs, load ${fmtLoad(report.machine.loadBefore)}`);

  let services: BenchServices | undefined;
  const stop = async () => {
    const running = services;
    services = undefined;
    await running?.stop();
  };
  process.once('SIGINT', () => {
    void stop().finally(() => process.exit(130));
  });
  try {
    services = await startBenchServices();
    if (parts.includes('zero')) {
      const items = values.items === undefined ? 400 : Number(values.items);
      if (!Number.isInteger(items) || items < 100) throw new Error(`--items must be a whole number of at least 100, got "${values.items}"`);
      report.zeroLatency = await runZeroLatencyComparison(services, { items, noopItems: 4000, concurrency: 16, repetitions: 9 });
      console.log(`\n${formatZeroLatency(report.zeroLatency)}`);
    }
    if (parts.includes('latency')) {
      report.latencyBound = await runLatencyBound(services, {
        items: 1000,
        concurrency: 64,
        minMs: 1500,
        maxMs: 2500,
        withHandLoop: true,
      });
      console.log(`\n${formatLatencyBound(report.latencyBound)}`);
    }
    if (parts.includes('memory')) {
      // Side by side: the answer read whole (as before) and streamed, at -c 8; streamed at -c 32.
      // The installed worker (dist/, as `bunch worker` runs), built first so it matches the source.
      execFileSync('npm', ['run', '--silent', 'build'], { stdio: 'inherit' });
      const latency = { minMs: 1000, maxMs: 2000, compiled: true };
      report.workerMemory = [
        await runWorkerMemory(services, { items: 48, concurrency: 8, ...latency, wholeBody: true }),
        await runWorkerMemory(services, { items: 48, concurrency: 8, ...latency, probeStages: true }),
        await runWorkerMemory(services, { items: 96, concurrency: 32, ...latency }),
      ];
      console.log(`\n${formatWorkerMemory(report.workerMemory)}`);
    }
    if (parts.includes('scale')) {
      const scaleOptions = { items: 1500, processes: [1, 2, 4], concurrencyPerProcess: 8 };
      report.scaleOut = await runScaleOut(services, scaleOptions);
      console.log(`\n${formatScaleOut(report.scaleOut, scaleOptions)}`);
    }
    if (parts.includes('refs')) {
      report.referenceImages = await runReferenceImages(services, { items: 96, concurrency: 8, minMs: 500, maxMs: 1000 });
      console.log(`\n${formatReferenceImages(report.referenceImages)}`);
    }
  } finally {
    await stop();
  }
  report.machine.loadAfter = loadavg();
  console.log(`\nload average before ${fmtLoad(report.machine.loadBefore)}, after ${fmtLoad(report.machine.loadAfter)}`);
  if (values.json) console.log(JSON.stringify(report, null, 2));
}

function fmtLoad(load: number[]): string {
  return load.map((value) => value.toFixed(2)).join(' / ');
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
