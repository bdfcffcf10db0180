/**
 * `npm run bench:gallery`: the run gallery's memory and speed against run size, side by side in
 * one run. For each size a child process writes a synthetic finalized run (manifest.jsonl,
 * summary.json, one small stored PNG per succeeded item, 1 in 20 items failed) to a temp
 * directory, then `writeGallery` makes its thumbnails and pages; the child reports its peak RSS
 * (getrusage maxrss) for the gallery step alone as the rise over the RSS before it.
 *   --sizes 5000,50000   run sizes (default)
 *   --json               also print the numbers as one JSON document on stdout
 * Flat memory means the 50,000-item peak is close to the 5,000-item one (ratio near 1).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { once } from 'node:events';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { renderImage } from '../src/emulator/render-image.js';
import { writeGallery } from '../src/gallery/write-gallery.js';
import { openObjectStore } from '../src/storage/open-object-store.js';

interface Measurement {
  items: number;
  seconds: number;
  itemsPerSecond: number;
  rssBeforeMb: number;
  peakRssMb: number;
  thumbnails: number;
}

const RUN_ID = 'bench-gallery';

async function writeRun(dir: string, items: number): Promise<void> {
  // One distinct small picture per 100 items (labelled), each stored as its own object.
  const pictures: Buffer[] = [];
  for (let i = 0; i < 100; i += 1) pictures.push(await renderImage({ width: 256, height: 256, seedMaterial: `p${i}`, label: `Linen shirt ${i}` }));
  const manifest = createWriteStream(path.join(dir, 'runs', RUN_ID, 'manifest.jsonl'));
  let succeeded = 0;
  for (let index = 0; index < items; index += 1) {
    const key = `SKU-${index}`;
    const failed = index % 20 === 7;
    const line: Record<string, unknown> = {
      schemaVersion: 1, runId: RUN_ID, index, itemKey: `${key}/main`, key, variant: 'main', rowNumber: index + 2,
      status: failed ? 'failed' : 'succeeded', lane: 'sync', inputHash: 'x'.repeat(64), model: 'gemini-3.1-flash-image-preview',
      costUsd: 0.058, attempts: failed ? 3 : 1, finishedAt: '2026-12-04T00:00:00.000Z',
    };
    if (failed) Object.assign(line, { errorCode: 'E_UPSTREAM', errorMessage: 'Gemini API answered HTTP 503: This model is currently experiencing high demand.' });
    else {
      const imageKey = `${key}/main-${index}.png`;
      const bytes = pictures[index % pictures.length]!;
      await mkdir(path.join(dir, key), { recursive: true });
      await writeFile(path.join(dir, imageKey), bytes);
      line['image'] = { key: imageKey, uri: `file://${path.join(dir, imageKey)}`, sha256: 'y'.repeat(64), bytes: bytes.length, mimeType: 'image/png', width: 256, height: 256 };
      line['caption'] = { key: `${key}/main-${index}.txt`, uri: '', sha256: '', bytes: 40, text: `Here is the image you asked for: Linen shirt ${index}` };
      succeeded += 1;
    }
    if (!manifest.write(JSON.stringify(line) + '\n')) await once(manifest, 'drain');
  }
  manifest.end();
  await once(manifest, 'finish');
  const summary = { runId: RUN_ID, jobName: 'bench-gallery', status: 'succeeded', costUsd: items * 0.058, counts: { succeeded, failed: items - succeeded } };
  await writeFile(path.join(dir, 'runs', RUN_ID, 'summary.json'), JSON.stringify(summary));
}

/** The child: one size, measured alone. */
async function child(items: number): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), 'bunch-gallery-bench-'));
  try {
    await mkdir(path.join(dir, 'runs', RUN_ID), { recursive: true });
    await writeRun(dir, items);
    global.gc?.();
    const rssBefore = process.memoryUsage().rss;
    const store = openObjectStore(`file://${dir}`, {});
    const started = performance.now();
    let peak = rssBefore;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
    const result = await writeGallery(store, RUN_ID, { concurrency: 4 });
    clearInterval(sampler);
    const seconds = (performance.now() - started) / 1000;
    peak = Math.max(peak, process.memoryUsage().rss);
    const measurement: Measurement = {
      items,
      seconds,
      itemsPerSecond: items / seconds,
      rssBeforeMb: rssBefore / 1_048_576,
      peakRssMb: peak / 1_048_576,
      thumbnails: result.thumbnails,
    };
    process.stdout.write(JSON.stringify(measurement) + '\n');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { sizes: { type: 'string', default: '5000,50000' }, json: { type: 'boolean', default: false }, child: { type: 'string' } } });
  if (values.child) return child(Number(values.child));
  const sizes = values.sizes.split(',').map(Number);
  const self = fileURLToPath(import.meta.url);
  const results: Measurement[] = [];
  for (const size of sizes) {
    const run = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', self, '--child', String(size)], { encoding: 'utf8', maxBuffer: 1 << 20 });
    if (run.status !== 0) throw new Error(`child for ${size} failed: ${run.stderr}`);
    results.push(JSON.parse(run.stdout.trim().split('\n').pop()!) as Measurement);
  }
  const base = results[0]!;
  console.log(`machine: ${cpus().length} cores, load ${loadavg().map((load) => load.toFixed(2)).join(' ')}, node ${process.version}, sharp ${execFileSync(process.execPath, ['-e', 'console.log(require("sharp/package.json").version)']).toString().trim()}`);
  console.log('items     seconds  items/s  RSS before  peak RSS  peak vs first');
  for (const result of results) {
    console.log(
      `${String(result.items).padEnd(9)} ${result.seconds.toFixed(1).padStart(7)}  ${result.itemsPerSecond.toFixed(0).padStart(7)}  ${result.rssBeforeMb.toFixed(0).padStart(7)} MB  ${result.peakRssMb.toFixed(0).padStart(5)} MB  ${(result.peakRssMb / base.peakRssMb).toFixed(2)}×`,
    );
  }
  if (values.json) console.log(JSON.stringify({ results }));
}

await main();
