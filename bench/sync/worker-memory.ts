import path from 'node:path';
import { openControlPlane } from '../../src/cli/control-plane.js';
import { startRun } from '../../src/lanes/start-run.js';
import { silentLogger } from '../../src/logging/create-logger.js';
import { loadJobFile } from '../../src/spec/load-job-file.js';
import { openObjectStore } from '../../src/storage/open-object-store.js';
import { writeBenchJob } from './bench-job.js';
import type { BenchServices } from './bench-services.js';
import { sampleInFlight } from './in-flight-sampler.js';
import { probeMemoryStages, type MemoryStages } from './memory-stages.js';
import { readRss, sampleRss } from './rss-sampler.js';
import { readRunManifest, waitForRun } from './wait-for-run.js';
import { startWorkerChild } from './worker-child.js';

/**
 * Part 3: peak resident memory of one `bunch worker -c <C>` process (a child, so the emulator,
 * which renders the 4K PNGs, and Redis are not counted) while it handles realistic 4K answers:
 * ~18 MB PNGs arriving as ~24 MB of base64 inside JSON. Also reports the item sizes, so the
 * account of where the memory goes can be checked against them.
 */
export interface WorkerMemoryOptions {
  items: number;
  concurrency: number;
  minMs: number;
  maxMs: number;
  /** The worker reads each answer whole before parsing (the way before streamed decoding), for the side-by-side. */
  wholeBody?: boolean;
  /** Also walk one call step by step in a fresh process (slow; once per bench run is enough). */
  probeStages?: boolean;
  /** Run the built `bin/bunch.js` (dist/) instead of the source through tsx. */
  compiled?: boolean;
}

export interface WorkerMemoryResult {
  options: WorkerMemoryOptions;
  /** RSS of the idle worker, after it is ready and before the run starts. */
  idleMb: number;
  /** The kernel's high-water mark (VmHWM) of the worker at the end of the run. */
  peakMb: number;
  /** Mean sampled RSS while the run was going. */
  meanMb: number;
  /** PNG bytes per image (mean), its base64 length, and the seconds the run took. */
  pngBytes: number;
  base64Chars: number;
  seconds: number;
  /** Max generateContent requests open at the emulator (rendering, waiting or sending). */
  emulatorInFlightMax: number;
  /** Mean seconds per item at the emulator (render + latency + send). */
  servedLatencySeconds: number;
  /** One call walked step by step in a fresh process: where one in-flight item's memory goes. */
  stages?: MemoryStages;
}

export async function runWorkerMemory(services: BenchServices, options: WorkerMemoryOptions): Promise<WorkerMemoryResult> {
  const { emulator } = services;
  emulator.setKnobs({ latency: { kind: 'uniform', minMs: options.minMs, maxMs: options.maxMs }, realisticPayload: true });
  const prefix = services.newPrefix('m');
  const dir = path.join(services.dir.path, prefix);
  const outputUrl = `file://${path.join(dir, 'out')}`;
  const jobFile = await writeBenchJob({ dir, name: 'bench-memory', items: options.items, imageSize: '4K', outputUrl });
  const job = await loadJobFile(jobFile);
  const store = openObjectStore(outputUrl);
  const plane = await openControlPlane(services.redis.url, prefix);
  const worker = await startWorkerChild(
    {
      REDIS_URL: services.redis.url,
      BUNCH_PREFIX: prefix,
      GEMINI_BASE_URL: emulator.url,
      GEMINI_API_KEY: emulator.apiKey ?? 'unused',
      ...(options.wholeBody ? { BUNCH_GEMINI_WHOLE_BODY: '1' } : {}),
    },
    ['-c', String(options.concurrency)],
    { compiled: options.compiled === true },
  );
  try {
    const idle = await readRss(worker.pid);
    const rss = sampleRss(worker.pid);
    emulator.requestLog.clear();
    const inFlight = sampleInFlight(emulator);
    const started = performance.now();
    const run = await startRun(job, { runs: plane.runs, queues: plane.queues, openStore: () => store, logger: silentLogger() });
    await waitForRun(plane.runs, run.runId, options.items);
    const seconds = (performance.now() - started) / 1000;
    const { samples, peakMb } = await rss.stop();
    const emulatorInFlight = inFlight.stop();
    const served = emulator.requestLog.list({ route: 'generateContent', status: 200 });
    const lines = await readRunManifest(store, run.runId);
    await worker.stop();
    emulator.setKnobs({ latency: { kind: 'fixed', ms: 0 } });
    const stages = options.probeStages ? await probeMemoryStages(emulator.url, emulator.apiKey ?? 'unused', path.join(dir, 'probe')) : undefined;
    const pngBytes = lines.reduce((sum, line) => sum + ('image' in line && line.image ? line.image.bytes : 0), 0) / lines.length;
    return {
      options,
      idleMb: idle.rssMb,
      peakMb,
      meanMb: samples.reduce((sum, sample) => sum + sample.rssMb, 0) / samples.length,
      pngBytes,
      base64Chars: 4 * Math.ceil(pngBytes / 3),
      seconds,
      emulatorInFlightMax: emulatorInFlight.max,
      servedLatencySeconds: served.reduce((sum, entry) => sum + entry.durationMs, 0) / served.length / 1000,
      ...(stages ? { stages } : {}),
    };
  } finally {
    await worker.stop();
    await plane.queues.generate.obliterate({ force: true });
    await plane.close();
    await store.close();
    emulator.setKnobs({ latency: { kind: 'fixed', ms: 0 }, realisticPayload: false });
  }
}
