/**
 * `npm run bench:plan`: planning a big catalog, side by side with reading it alone. Each part runs
 * in a child process of its own over the same generated CSV (`--rows`, default 1,000,000):
 *   parse    csv-parse over the file, nothing else: the floor any planner stands on;
 *   keys-map, keys-index  parse + duplicate-key detection alone, with a Map of key strings (what
 *            the normaliser used before) and with the KeyIndex it uses now;
 *   dry-run  `bunch run --dry-run` through the library (planPreview): rows normalised and checked
 *            for duplicate keys, prompts rendered, requests and inputHashes built, one marker
 *            look-up per item in a local output directory (all missing: a first night).
 * Each child reports rows/s and its peak RSS (VmHWM). Ratios to `parse` are what to compare
 * across machines.
 *   --rows N   catalog size      --json   also print the numbers as JSON
 */
import { spawnSync } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parse } from 'csv-parse';
import { stringify } from 'yaml';
import { KeyIndex } from '../src/catalog/key-index.js';
import { planPreview } from '../src/cli/plan-preview.js';
import { loadJobFile } from '../src/spec/load-job-file.js';
import { openObjectStore } from '../src/storage/open-object-store.js';

const PARTS = ['parse', 'keys-map', 'keys-index', 'dry-run'] as const;
type Part = (typeof PARTS)[number];

interface Measurement {
  part: Part;
  rows: number;
  seconds: number;
  rowsPerSecond: number;
  peakRssMb: number;
}

async function peakRssMb(): Promise<number> {
  const status = await readFile('/proc/self/status', 'utf8').catch(() => '');
  const match = /VmHWM:\s+(\d+) kB/.exec(status);
  return match ? Number(match[1]) / 1024 : process.resourceUsage().maxRSS / 1024;
}

async function writeCatalog(file: string, rows: number): Promise<void> {
  const out = createWriteStream(file);
  out.write('sku,title,color\n');
  for (let i = 1; i <= rows; i += 1) {
    if (!out.write(`SKU-${i},"Linen shirt number ${i} in a summer colour",sand\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

async function child(part: Part, dir: string): Promise<void> {
  const started = performance.now();
  let rows = 0;
  if (part !== 'dry-run') {
    const map = part === 'keys-map' ? new Map<string, number>() : undefined;
    const index = part === 'keys-index' ? new KeyIndex() : undefined;
    for await (const record of createReadStream(path.join(dir, 'catalog.csv')).pipe(parse({ columns: true }))) {
      rows += 1;
      const key = (record as { sku: string }).sku;
      if (map && !map.has(key)) map.set(key, rows);
      index?.firstRowOrAdd(key, rows);
    }
    // Keep the structure alive to the measurement.
    if ((map?.size ?? index?.size ?? rows) !== rows) throw new Error('duplicate keys in a generated catalog');
  } else {
    const job = await loadJobFile(path.join(dir, 'job.yaml'));
    const preview = await planPreview(job, (url) => openObjectStore(url, {}));
    rows = preview.items + preview.rejectedRows;
  }
  const seconds = (performance.now() - started) / 1000;
  const measurement: Measurement = { part, rows, seconds, rowsPerSecond: rows / seconds, peakRssMb: await peakRssMb() };
  process.stdout.write(JSON.stringify(measurement) + '\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { rows: { type: 'string', default: '1000000' }, json: { type: 'boolean', default: false }, child: { type: 'string' }, dir: { type: 'string' } } });
  if (values.child) return child(values.child as Part, values.dir!);
  const rows = Number(values.rows);
  const dir = await mkdtemp(path.join(tmpdir(), 'bunch-plan-bench-'));
  try {
    await writeCatalog(path.join(dir, 'catalog.csv'), rows);
    await writeFile(
      path.join(dir, 'job.yaml'),
      stringify({
        name: 'plan-bench',
        catalog: { path: path.join(dir, 'catalog.csv'), key: 'sku' },
        model: 'gemini-3.1-flash-image-preview',
        system: 'You photograph products for an online shop: soft daylight, white background, no props.',
        prompt: 'Studio product photo of {{title}}, {{color}}, front view, centred',
        lane: 'sync',
        output: { url: `file://${path.join(dir, 'out')}` },
      }),
    );
    const self = fileURLToPath(import.meta.url);
    const results: Measurement[] = [];
    for (const part of PARTS) {
      const run = spawnSync(process.execPath, ['--import', 'tsx', self, '--child', part, '--dir', dir], { encoding: 'utf8', maxBuffer: 1 << 20 });
      if (run.status !== 0) throw new Error(`${part} failed: ${run.stderr}`);
      results.push(JSON.parse(run.stdout.trim().split('\n').pop()!) as Measurement);
    }
    const floor = results[0]!;
    console.log(`machine: ${cpus().length} cores, load ${loadavg().map((load) => load.toFixed(2)).join(' ')}, node ${process.version}; ${rows} rows`);
    console.log('part          rows/s   vs parse  peak RSS');
    for (const result of results) {
      console.log(`${result.part.padEnd(11)} ${result.rowsPerSecond.toFixed(0).padStart(8)}   ${(result.rowsPerSecond / floor.rowsPerSecond).toFixed(2).padStart(6)}×  ${result.peakRssMb.toFixed(0).padStart(5)} MB`);
    }
    if (values.json) console.log(JSON.stringify({ results }));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
