/**
 * `npm run bench:night`: the second night of a big catalog where 1 % of the rows changed. A
 * first night is seeded straight into a local output directory (a marker and a small image per
 * item, and the stored-output index its finalizer would have written), then `startRun` plans the
 * changed catalog against one private redis-server, no workers: the figure is how fast planning
 * decides and records the skips (the changed rows are queued for the workers).
 *   index    the stored-output index, each item's objects checked with one stat (what bunch
 *            does on a local directory now);
 *   listed   the same with the store's existsSync hidden: the index checked by one listing of the
 *            markers and one of the outputs, as on S3;
 *   markers  the same store with the index hidden: one marker read per stored row (what it did
 *            before; on `--baseline-rows` rows, it is slow).
 * Each part runs in a child process of its own; rows/s side by side, peak RSS, storage calls and
 * Redis round trips and CPU.
 *   --rows N (default 200000)   --baseline-rows N (default 20000)   --json
 *   --parts index,listed,markers (default all; the ratios need index and the one compared)
 */
import { spawnSync } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { stringify } from 'yaml';
import { openControlPlane } from '../src/cli/control-plane.js';
import { planRun } from '../src/lanes/plan-run.js';
import { startRun } from '../src/lanes/start-run.js';
import { startPrivateRedis } from '../src/local/start-private-redis.js';
import { silentLogger } from '../src/logging/create-logger.js';
import type { OutputMarker } from '../src/outputs/output-marker.js';
import type { StoredIndexEntry } from '../src/outputs/stored-index-entry.js';
import { storedIndexObject, storedIndexPointerKey } from '../src/outputs/stored-index-pointer.js';
import { fillExtension } from '../src/plan/item-identity.js';
import { loadJobFile } from '../src/spec/load-job-file.js';
import type { ObjectStore } from '../src/storage/object-store.js';
import { openObjectStore } from '../src/storage/open-object-store.js';

const PARTS = ['index', 'listed', 'markers'] as const;
type Part = (typeof PARTS)[number];

interface Measurement {
  part: Part;
  rows: number;
  skipped: number;
  queued: number;
  seconds: number;
  rowsPerSecond: number;
  peakRssMb: number;
  storage: { get: number; head: number; list: number; exists: number };
  redis: { roundTrips: number; cpuSeconds: number };
  /** Of `seconds`: loading the index, and listing storage, before the first row. */
  loadSeconds: number;
  listSeconds: number;
}

const SEED_IMAGE = Buffer.alloc(64, 7);

async function peakRssMb(): Promise<number> {
  const status = await readFile('/proc/self/status', 'utf8').catch(() => '');
  const match = /VmHWM:\s+(\d+) kB/.exec(status);
  return match ? Number(match[1]) / 1024 : process.resourceUsage().maxRSS / 1024;
}

async function writeCatalog(file: string, rows: number, changedEvery: number): Promise<void> {
  const out = createWriteStream(file);
  out.write('sku,title,color\n');
  for (let i = 1; i <= rows; i += 1) {
    const changed = changedEvery > 0 && i % changedEvery === 0 ? ' (new season)' : '';
    if (!out.write(`SKU-${i},"Linen shirt number ${i}${changed}",sand\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

async function writeJob(dir: string, name: string, catalog: string): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(
    file,
    stringify({
      name: 'night-bench',
      catalog: { path: path.join(dir, catalog), key: 'sku' },
      model: 'gemini-3.1-flash-image-preview',
      prompt: 'Studio product photo of {{title}}, {{color}}, front view, centred',
      generation: { responseModalities: ['IMAGE'] },
      lane: 'sync',
      output: { url: `file://${path.join(dir, 'out')}` },
    }),
  );
  return file;
}

/** Night one, as its workers and finalizer would have left it: markers, images, the index. */
async function seedFirstNight(dir: string, jobFile: string): Promise<number> {
  const job = await loadJobFile(jobFile);
  const out = path.join(dir, 'out');
  const index = createWriteStream(path.join(dir, 'index.jsonl'));
  // A chunk's items write their lines concurrently: a drain listener each.
  index.setMaxListeners(0);
  let seeded = 0;
  for await (const step of planRun(job, { readMarker: async () => undefined })) {
    if (step.kind !== 'chunk') continue;
    await Promise.all(
      step.generate.map(async ({ target }) => {
        const imageKey = fillExtension(target.objectKey, 'png');
        const image = { key: imageKey, sha256: 'a'.repeat(64), bytes: SEED_IMAGE.length, mimeType: 'image/png', width: 1024, height: 1024 };
        const marker: OutputMarker = {
          schemaVersion: 1, itemKey: target.itemKey, inputHash: target.inputHash, model: target.model, lane: 'sync', runId: 'night-one', createdAt: new Date().toISOString(),
          image: { ...image, uri: `file://${path.join(out, imageKey)}` },
        };
        await mkdir(path.dirname(path.join(out, imageKey)), { recursive: true });
        await writeFile(path.join(out, imageKey), SEED_IMAGE);
        await mkdir(path.dirname(path.join(out, target.markerKey)), { recursive: true });
        await writeFile(path.join(out, target.markerKey), JSON.stringify(marker));
        const entry: StoredIndexEntry = { itemKey: target.itemKey, inputHash: target.inputHash, model: target.model, lane: 'sync', runId: 'night-one', createdAt: marker.createdAt, image };
        if (!index.write(JSON.stringify(entry) + '\n')) await once(index, 'drain');
      }),
    );
    seeded += step.generate.length;
  }
  index.end();
  await once(index, 'finish');
  const store = openObjectStore(`file://${out}`, {});
  await store.put(storedIndexObject('night-one'), await readFile(path.join(dir, 'index.jsonl')));
  await store.put(storedIndexPointerKey(job.name), JSON.stringify({ schemaVersion: 1, jobName: job.name, runId: 'night-one', index: storedIndexObject('night-one'), entries: seeded, writtenAt: new Date().toISOString() }));
  await rm(path.join(dir, 'index.jsonl'));
  return seeded;
}

/**
 * Counts calls; `hidePointer` makes the index invisible (the marker-per-row baseline); without
 * `existsSync` the store offers none, as S3 would not.
 */
function countedStore(store: ObjectStore, options: { hidePointer?: string; existsSync: boolean }, calls: Measurement['storage']): ObjectStore {
  const { hidePointer } = options;
  const counted: ObjectStore = {
    url: store.url,
    uriFor: (key) => store.uriFor(key),
    put: (key, body, options) => store.put(key, body, options),
    get: async (key) => {
      calls.get += 1;
      return key === hidePointer ? undefined : store.get(key);
    },
    getStream: async (key) => {
      calls.get += 1;
      return store.getStream(key);
    },
    head: async (key) => {
      calls.head += 1;
      return store.head(key);
    },
    delete: (key) => store.delete(key),
    list: (prefix, options) => {
      calls.list += 1;
      return store.list(prefix, options);
    },
    close: () => store.close(),
  };
  const existsSync = store.existsSync?.bind(store);
  if (existsSync && options.existsSync) {
    counted.existsSync = (key) => {
      calls.exists += 1;
      return existsSync(key);
    };
    // With it, the lookup's second thread stats what the index names (its stats are not counted here).
    if (store.localDirectory !== undefined) return { ...counted, localDirectory: store.localDirectory };
  }
  return counted;
}

async function redisCpu(redis: Redis): Promise<number> {
  const info = await redis.info('cpu');
  const value = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? 0);
  return value('used_cpu_user') + value('used_cpu_sys');
}

async function redisCalls(redis: Redis): Promise<number> {
  const info = await redis.info('stats');
  return Number(/^total_commands_processed:(\d+)/m.exec(info)?.[1] ?? 0);
}

async function child(part: Part, jobFile: string, redisUrl: string): Promise<void> {
  const job = await loadJobFile(jobFile);
  const plane = await openControlPlane(redisUrl, `night-${part}`);
  const probe = new Redis(redisUrl);
  const storage = { get: 0, head: 0, list: 0, exists: 0 };
  const options = part === 'markers' ? { hidePointer: storedIndexPointerKey(job.name), existsSync: true } : { existsSync: part === 'index' };
  const store = countedStore(openObjectStore(job.output.url, {}), options, storage);
  const cpuBefore = await redisCpu(probe);
  const callsBefore = await redisCalls(probe);
  const started = performance.now();
  const run = await startRun(job, { runs: plane.runs, queues: plane.queues, openStore: () => store, logger: silentLogger() });
  const seconds = (performance.now() - started) / 1000;
  const measurement: Measurement = {
    part,
    rows: run.items,
    skipped: run.skipped,
    queued: run.enqueued,
    seconds,
    rowsPerSecond: run.items / seconds,
    peakRssMb: await peakRssMb(),
    storage,
    loadSeconds: (run.storage?.loadMs ?? 0) / 1000,
    listSeconds: (run.storage?.listMs ?? 0) / 1000,
    // Commands the server ran (inside scripts too) minus the probe's own two INFO calls.
    redis: { roundTrips: (await redisCalls(probe)) - callsBefore - 2, cpuSeconds: (await redisCpu(probe)) - cpuBefore },
  };
  probe.disconnect();
  await plane.close();
  process.stdout.write(JSON.stringify(measurement) + '\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rows: { type: 'string', default: '200000' },
      'baseline-rows': { type: 'string', default: '20000' },
      json: { type: 'boolean', default: false },
      parts: { type: 'string', default: PARTS.join(',') },
      child: { type: 'string' },
      job: { type: 'string' },
      redis: { type: 'string' },
    },
  });
  if (values.child) return child(values.child as Part, values.job!, values.redis!);
  const parts = values.parts.split(',').map((part) => {
    if (!(PARTS as readonly string[]).includes(part)) throw new Error(`--parts: unknown part ${part} (one of ${PARTS.join(', ')})`);
    return part as Part;
  });
  const rows = Number(values.rows);
  const baselineRows = Math.min(rows, Number(values['baseline-rows']));
  const dir = await mkdtemp(path.join(tmpdir(), 'bunch-night-bench-'));
  const redis = await startPrivateRedis();
  try {
    await writeCatalog(path.join(dir, 'night1.csv'), rows, 0);
    const seedStarted = performance.now();
    const seeded = await seedFirstNight(dir, await writeJob(dir, 'night1.yaml', 'night1.csv'));
    console.error(`seeded ${seeded} items in ${((performance.now() - seedStarted) / 1000).toFixed(0)} s`);
    await writeCatalog(path.join(dir, 'night2.csv'), rows, 100);
    await writeCatalog(path.join(dir, 'night2-baseline.csv'), baselineRows, 100);
    const jobs: Record<Part, string> = {
      index: await writeJob(dir, 'night2.yaml', 'night2.csv'),
      listed: await writeJob(dir, 'night2.yaml', 'night2.csv'),
      markers: await writeJob(dir, 'night2-baseline.yaml', 'night2-baseline.csv'),
    };
    const self = fileURLToPath(import.meta.url);
    const results: Measurement[] = [];
    for (const part of parts) {
      // BENCH_NODE_ARGS, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`, reach each child's node.
      const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
      const run = spawnSync(process.execPath, [...nodeArgs, '--import', 'tsx', self, '--child', part, '--job', jobs[part], '--redis', redis.url], { encoding: 'utf8', maxBuffer: 1 << 20 });
      if (run.status !== 0) throw new Error(`${part} failed: ${run.stderr}`);
      results.push(JSON.parse(run.stdout.trim().split('\n').pop()!) as Measurement);
    }
    const measuredPart = (part: Part) => results.find((measured) => measured.part === part);
    console.log(`machine: ${cpus().length} cores, load ${loadavg().map((load) => load.toFixed(2)).join(' ')}, node ${process.version}; ${rows} rows (baseline ${baselineRows}), 1 % changed`);
    console.log('part       rows   skipped  queued   rows/s   peak RSS  GET  HEAD  LIST  stats/row  Redis cmds/row  Redis CPU s  load s  list s');
    for (const result of results) {
      console.log(
        `${result.part.padEnd(8)} ${String(result.rows).padStart(8)} ${String(result.skipped).padStart(8)} ${String(result.queued).padStart(7)} ${result.rowsPerSecond.toFixed(0).padStart(8)}  ${result.peakRssMb.toFixed(0).padStart(6)} MB ${String(result.storage.get).padStart(6)} ${String(result.storage.head).padStart(5)} ${String(result.storage.list).padStart(5)}  ${(result.storage.exists / result.rows).toFixed(2).padStart(9)}  ${(result.redis.roundTrips / result.rows).toFixed(2).padStart(14)}  ${result.redis.cpuSeconds.toFixed(2).padStart(10)}  ${result.loadSeconds.toFixed(1).padStart(6)}  ${result.listSeconds.toFixed(1).padStart(6)}`,
      );
    }
    const indexed = measuredPart('index');
    const listed = measuredPart('listed');
    const baseline = measuredPart('markers');
    if (indexed && baseline) console.log(`index vs markers: ${(indexed.rowsPerSecond / baseline.rowsPerSecond).toFixed(1)}× the rows/s`);
    if (indexed && listed) console.log(`index (stat) vs listed: ${(indexed.rowsPerSecond / listed.rowsPerSecond).toFixed(2)}×`);
    if (values.json) console.log(JSON.stringify({ results }));
  } finally {
    await redis.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
