import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { stringify } from 'yaml';
import { openControlPlane } from '../../src/cli/control-plane.js';
import { startRun } from '../../src/lanes/start-run.js';
import { silentLogger } from '../../src/logging/create-logger.js';
import { loadJobFile } from '../../src/spec/load-job-file.js';
import { openObjectStore } from '../../src/storage/open-object-store.js';
import { BENCH_MODEL, benchPrompt, benchTitle } from './bench-job.js';
import type { BenchServices } from './bench-services.js';
import { readRss, sampleRss } from './rss-sampler.js';
import { readRunManifest, waitForRun } from './wait-for-run.js';
import { startWorkerChild } from './worker-child.js';

/**
 * Part `refs`: what reference images cost a worker. The same catalog runs twice against one
 * `bunch worker -c <C>` child each time, side by side: text only, then with two ~1 MB photos per
 * item (distinct per item, incompressible, so neither the worker's reference cache nor the
 * emulator's tint gets an easy ride). Reports throughput and the worker's peak RSS for both, and
 * their ratios; planning (fetching, normalising and storing 2 × items photos) is inside the clock.
 */
export interface ReferenceImagesOptions {
  items: number;
  concurrency: number;
  minMs: number;
  maxMs: number;
}

export interface ReferenceRunResult {
  seconds: number;
  itemsPerSecond: number;
  idleMb: number;
  peakMb: number;
  /** Seconds from startRun to the end of planning (references fetched and stored). */
  planningSeconds: number;
}

export interface ReferenceImagesResult {
  options: ReferenceImagesOptions;
  referenceBytes: number;
  textOnly: ReferenceRunResult;
  withReferences: ReferenceRunResult;
  /** The same job again, nothing changed: every photo fetched again, found by its bytes, every item skipped. */
  secondNight: ReferenceRunResult;
  ratios: { throughput: number; peakRss: number };
}

export async function runReferenceImages(services: BenchServices, options: ReferenceImagesOptions): Promise<ReferenceImagesResult> {
  services.emulator.setKnobs({ latency: { kind: 'uniform', minMs: options.minMs, maxMs: options.maxMs } });
  try {
    const dir = path.join(services.dir.path, services.newPrefix('refs-photos'));
    const photos = await writePhotos(dir, options.items * 2);
    const [textOnly] = await runNights(services, options, dir, undefined, 1);
    const [withReferences, secondNight] = await runNights(services, options, dir, photos.files, 2);
    if (!textOnly || !withReferences || !secondNight) throw new Error('refs bench: a run is missing');
    return {
      options,
      referenceBytes: photos.meanBytes,
      textOnly,
      withReferences,
      secondNight,
      ratios: { throughput: withReferences.itemsPerSecond / textOnly.itemsPerSecond, peakRss: withReferences.peakMb / textOnly.peakMb },
    };
  } finally {
    services.emulator.setKnobs({ latency: { kind: 'fixed', ms: 0 } });
  }
}

/** `count` distinct PNGs of random pixels, 600 × 600 (~1.08 MB each: noise does not compress). */
async function writePhotos(dir: string, count: number): Promise<{ files: string[]; meanBytes: number }> {
  await mkdir(path.join(dir, 'photos'), { recursive: true });
  const files: string[] = [];
  let total = 0;
  for (let i = 0; i < count; i += 1) {
    const png = await sharp(randomBytes(600 * 600 * 3), { raw: { width: 600, height: 600, channels: 3 } }).png({ compressionLevel: 1 }).toBuffer();
    const name = `photos/p${i}.png`;
    await writeFile(path.join(dir, name), png);
    files.push(name);
    total += png.length;
  }
  return { files, meanBytes: total / count };
}

/** Runs the job `nights` times in a row against one worker child; the first night generates, later ones find everything stored. */
async function runNights(
  services: BenchServices,
  options: ReferenceImagesOptions,
  dir: string,
  photos: string[] | undefined,
  nights: number,
): Promise<ReferenceRunResult[]> {
  const prefix = services.newPrefix(photos ? 'refs' : 'text');
  const outputUrl = `file://${path.join(dir, prefix, 'out')}`;
  const rows = ['sku,title,front,back'];
  for (let i = 1; i <= options.items; i += 1) {
    const front = photos?.[2 * (i - 1)] ?? '';
    const back = photos?.[2 * (i - 1) + 1] ?? '';
    rows.push(`SKU-${String(i).padStart(6, '0')},${benchTitle(i)},${front},${back}`);
  }
  const catalogFile = path.join(dir, `${prefix}.csv`);
  await writeFile(catalogFile, rows.join('\n') + '\n');
  const jobFile = path.join(dir, `${prefix}.yaml`);
  await writeFile(
    jobFile,
    stringify({
      name: `bench-${prefix}`,
      catalog: { path: catalogFile, key: 'sku' },
      model: BENCH_MODEL,
      prompt: benchPrompt('{{title}}'),
      generation: { imageConfig: { aspectRatio: '1:1', imageSize: '1K' } },
      lane: 'sync',
      sync: { attempts: 3 },
      ...(photos ? { references: ['front', 'back'] } : {}),
      output: { url: outputUrl },
    }),
  );
  const job = await loadJobFile(jobFile);
  const store = openObjectStore(outputUrl);
  const plane = await openControlPlane(services.redis.url, prefix);
  const worker = await startWorkerChild(
    { REDIS_URL: services.redis.url, BUNCH_PREFIX: prefix, GEMINI_BASE_URL: services.emulator.url, GEMINI_API_KEY: services.emulator.apiKey ?? 'unused' },
    ['-c', String(options.concurrency)],
  );
  try {
    const results: ReferenceRunResult[] = [];
    for (let night = 1; night <= nights; night += 1) {
      const idle = await readRss(worker.pid);
      const rss = sampleRss(worker.pid);
      const started = performance.now();
      const run = await startRun(job, { runs: plane.runs, queues: plane.queues, openStore: () => store, logger: silentLogger() });
      const planningSeconds = (performance.now() - started) / 1000;
      const expected = night === 1 ? 'succeeded' : 'skipped';
      await waitForRun(plane.runs, run.runId, options.items, expected);
      const seconds = (performance.now() - started) / 1000;
      const { peakMb } = await rss.stop();
      const lines = await readRunManifest(store, run.runId);
      const ok = lines.filter((line) => line.status === expected).length;
      if (ok !== options.items) throw new Error(`refs bench: ${ok} of ${options.items} items ${expected}\n${worker.stderr().slice(-2000)}`);
      results.push({ seconds, itemsPerSecond: options.items / seconds, idleMb: idle.rssMb, peakMb, planningSeconds });
    }
    return results;
  } finally {
    await worker.stop();
    await plane.queues.generate.obliterate({ force: true });
    await plane.close();
    await store.close();
  }
}
