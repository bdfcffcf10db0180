/**
 * `npm run bench:redis`: how much Redis a planned run holds, side by side in one process against
 * one private redis-server, file:// output under a temp dir, no workers (every item stays planned).
 *   --items N       items of the big run (default 1,000,000)
 *   --compare N     items planned twice, once windowed and once with the window opened to N, to
 *                   show the per-item cost the window saves (default 20,000)
 *   --json          also print the numbers as one JSON document on stdout
 * Redis memory is `used_memory` after planning minus before (same server, flushed in between).
 */
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { stringify } from 'yaml';
import { openControlPlane } from '../src/cli/control-plane.js';
import { startRun } from '../src/lanes/start-run.js';
import { startPrivateRedis } from '../src/local/start-private-redis.js';
import { silentLogger } from '../src/logging/create-logger.js';
import { loadJobFile } from '../src/spec/load-job-file.js';
import { openObjectStore } from '../src/storage/open-object-store.js';

interface Measurement {
  items: number;
  queueWindow: number;
  queued: number;
  waitingInStorage: number;
  redisBytes: number;
  bytesPerItem: number;
  planSeconds: number;
}

async function writeCatalog(file: string, items: number): Promise<void> {
  const out = createWriteStream(file);
  out.write('sku,title\n');
  for (let i = 1; i <= items; i += 1) {
    if (!out.write(`SKU-${i},"Linen shirt number ${i} in a summer colour"\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

async function measure(dir: string, redisUrl: string, items: number, queueWindow: number): Promise<Measurement> {
  const catalog = path.join(dir, `catalog-${items}.csv`);
  await writeCatalog(catalog, items);
  const jobFile = path.join(dir, `job-${items}-${queueWindow}.yaml`);
  const name = `footprint-${items}-${queueWindow}`;
  await writeFile(
    jobFile,
    stringify({
      name,
      catalog: { path: catalog, key: 'sku' },
      model: 'gemini-3.1-flash-image-preview',
      system: 'You photograph products for an online shop: soft daylight, white background, no props, no text.',
      prompt: 'Studio product photo of {{title}}, front view, centred',
      lane: 'sync',
      sync: { queueWindow },
      output: { url: `file://${path.join(dir, `out-${name}`)}` },
    }),
  );
  const admin = new Redis(redisUrl);
  await admin.flushall();
  const before = await usedMemory(admin);
  const plane = await openControlPlane(redisUrl, 'bench');
  const stores = new Map<string, ReturnType<typeof openObjectStore>>();
  const openStore = (url: string) => stores.get(url) ?? stores.set(url, openObjectStore(url)).get(url)!;
  const started = Date.now();
  const run = await startRun(await loadJobFile(jobFile), { runs: plane.runs, queues: plane.queues, openStore, logger: silentLogger() });
  const planSeconds = (Date.now() - started) / 1000;
  const after = await usedMemory(admin);
  await plane.close();
  for (const store of stores.values()) await store.close();
  admin.disconnect();
  const redisBytes = after - before;
  return {
    items,
    queueWindow,
    queued: run.enqueued - run.waitingInStorage,
    waitingInStorage: run.waitingInStorage,
    redisBytes,
    bytesPerItem: redisBytes / items,
    planSeconds,
  };
}

async function usedMemory(redis: Redis): Promise<number> {
  const info = await redis.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 0);
}

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { items: { type: 'string', default: '1000000' }, compare: { type: 'string', default: '20000' }, json: { type: 'boolean', default: false } },
  });
  const items = Number(values.items);
  const compare = Number(values.compare);
  const redis = await startPrivateRedis();
  const dir = await mkdtemp(path.join(tmpdir(), 'bench-redis-'));
  try {
    const windowed = await measure(dir, redis.url, compare, 10_000);
    const unbounded = await measure(dir, redis.url, compare, compare);
    const big = await measure(dir, redis.url, items, 10_000);
    const rows = [windowed, unbounded, big].map(
      (m) =>
        `| ${m.items.toLocaleString('en')} | ${m.queueWindow.toLocaleString('en')} | ${m.queued.toLocaleString('en')} | ${m.waitingInStorage.toLocaleString('en')} | ${mb(m.redisBytes)} | ${Math.round(m.bytesPerItem)} | ${m.planSeconds.toFixed(1)} s |`,
    );
    console.log('| items | queueWindow | queued | waiting in storage | Redis used | bytes/item | planning |');
    console.log('|---|---|---|---|---|---|---|');
    for (const row of rows) console.log(row);
    console.log(`\nwindowed / unbounded Redis at ${compare.toLocaleString('en')} items: ${(windowed.redisBytes / unbounded.redisBytes).toFixed(2)}`);
    console.log(`${items.toLocaleString('en')} items planned: ${mb(big.redisBytes)} of Redis (target < 100 MB)`);
    if (values.json) console.log(JSON.stringify({ windowed, unbounded, big }));
  } finally {
    await redis.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
