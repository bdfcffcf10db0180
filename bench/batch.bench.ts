/**
 * `npm run bench:batch`: the batch lane's result collection, side by side in one process against
 * one private redis-server, file:// storage under a temp dir, and the emulator (for real response
 * bodies only). Two result files are collected the way a worker collects them (download to a temp
 * file, stream line by line, decode + validate + store + record each item):
 *   small — 10,000 lines with a small (512 px) image each;
 *   4k    — realistic 4K lines (emulator `realisticPayload`), ~tens of MB of base64 per line.
 * Each file is collected in a fresh child process (as a worker would), whose RSS is sampled every
 * 20 ms during the collection. Reported per file: size, lines, seconds, MB/s, peak RSS (target:
 * independent of file size and under 400 MB). The 4K case runs at two file sizes to show that.
 *   --small N   lines of the small file (default 10000)
 *   --big N     lines of the 4K file (default 60)
 *   --json      also print the numbers as JSON on stdout
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { once } from 'node:events';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { startEmulator } from '../src/emulator/start-emulator.js';
import { decodeImage } from '../src/image/decode-image.js';
import { collectBatchResults } from '../src/lanes/batch/collect-results.js';
import { silentLogger } from '../src/logging/create-logger.js';
import { startPrivateRedis } from '../src/local/start-private-redis.js';
import type { ItemTarget } from '../src/plan/planned-item.js';
import { createRedisConnection } from '../src/redis/redis-connection.js';
import type { RunConfig } from '../src/runs/run-config.js';
import { RunStore } from '../src/runs/run-store.js';
import { openObjectStore } from '../src/storage/open-object-store.js';

const MODEL = 'gemini-3.1-flash-image-preview';

interface CaseResult {
  name: string;
  lines: number;
  fileMB: number;
  seconds: number;
  mbPerSecond: number;
  itemsPerSecond: number;
  peakRssMB: number;
  baselineRssMB: number;
  succeeded: number;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      small: { type: 'string' },
      big: { type: 'string' },
      json: { type: 'boolean', default: false },
      // Internal: collect one prepared file in this (child) process and print its numbers as JSON.
      'collect-file': { type: 'string' },
      name: { type: 'string' },
      lines: { type: 'string' },
      width: { type: 'string' },
      height: { type: 'string' },
      redis: { type: 'string' },
    },
  });
  if (values['collect-file']) {
    const result = await collectInThisProcess({
      name: values.name ?? 'case',
      file: values['collect-file'],
      lines: Number(values.lines),
      width: Number(values.width),
      height: Number(values.height),
      redisUrl: values.redis ?? '',
    });
    process.stdout.write(JSON.stringify(result) + '\n');
    return;
  }
  const smallLines = Number(values.small ?? 10_000);
  const bigLines = Number(values.big ?? 60);
  console.error(`bench:batch — ${cpus().length} CPUs, load ${loadavg().map((n) => n.toFixed(2)).join(' ')}, node ${process.version}`);

  const dir = await mkdtemp(path.join(tmpdir(), 'bunch-bench-batch-'));
  const redis = await startPrivateRedis();
  const results: CaseResult[] = [];
  try {
    const emulator = await startEmulator({ apiKey: null });
    const smallResponse = await sampleResponse(emulator.url, '512', false);
    const bigResponse = await sampleResponse(emulator.url, '4K', true);
    await emulator.close();
    const cases = [
      { name: 'small 512px', lines: smallLines, sample: smallResponse },
      { name: 'realistic 4K', lines: Math.max(1, Math.round(bigLines / 4)), sample: bigResponse },
      { name: 'realistic 4K', lines: bigLines, sample: bigResponse },
    ];
    for (const benchCase of cases) {
      const file = path.join(dir, `${benchCase.name.replace(/\W+/g, '-')}-${benchCase.lines}.jsonl`);
      await writeResultFile(file, benchCase.lines, benchCase.sample.json);
      // Each collection runs in a fresh process, as in a worker: its RSS is the collector's alone,
      // not that of this parent holding sample bodies and earlier cases.
      results.push(await collectInChild(file, benchCase.name, benchCase.lines, benchCase.sample, redis.url));
      await rm(file, { force: true });
    }
  } finally {
    await redis.stop();
    await rm(dir, { recursive: true, force: true });
  }
  console.log('\nfile            lines    size MB   seconds   MB/s   items/s   peak RSS MB (baseline)');
  for (const r of results) {
    console.log(
      `${r.name.padEnd(14)} ${String(r.lines).padStart(6)} ${r.fileMB.toFixed(1).padStart(10)} ${r.seconds.toFixed(1).padStart(9)} ${r.mbPerSecond.toFixed(1).padStart(6)} ${r.itemsPerSecond.toFixed(0).padStart(9)}   ${r.peakRssMB.toFixed(0)} (${r.baselineRssMB.toFixed(0)})`,
    );
  }
  if (values.json) console.log(JSON.stringify({ machine: { cpus: cpus().length, node: process.version }, results }));
}

/** The result file a batch would produce: one line per item, keys as the lane writes them. */
async function writeResultFile(file: string, lines: number, responseJson: string): Promise<void> {
  const out = createWriteStream(file);
  for (let i = 0; i < lines; i += 1) {
    if (!out.write(`{"key":${JSON.stringify(`SKU-${i}#main`)},"response":${responseJson}}\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

function collectInChild(
  file: string,
  name: string,
  lines: number,
  sample: { width: number; height: number },
  redisUrl: string,
): Promise<CaseResult> {
  const args = [
    '--import', 'tsx', fileURLToPath(import.meta.url),
    '--collect-file', file, '--name', name, '--lines', String(lines),
    '--width', String(sample.width), '--height', String(sample.height), '--redis', redisUrl,
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => {
      if (code !== 0) reject(new Error(`collector for ${name} exited with ${code}`));
      else resolve(JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as CaseResult);
    });
  });
}

/** One real GenerateContentResponse from the emulator, as JSON text. */
async function sampleResponse(baseUrl: string, imageSize: string, realistic: boolean): Promise<{ json: string; width: number; height: number }> {
  const headers = { 'content-type': 'application/json', ...(realistic ? { 'x-emulator-knobs': JSON.stringify({ realisticPayload: true }) } : {}) };
  const response = await fetch(`${baseUrl}/v1beta/models/${MODEL}:generateContent`, {
    method: 'POST',
    headers,
    body: JSON.stringify({
      contents: [{ role: 'user', parts: [{ text: `bench product photo ${imageSize}` }] }],
      generationConfig: { responseModalities: ['IMAGE', 'TEXT'], imageConfig: { aspectRatio: '1:1', imageSize } },
    }),
  });
  if (!response.ok) throw new Error(`emulator answered ${response.status}: ${(await response.text()).slice(0, 300)}`);
  const json = await response.text();
  const parsed = JSON.parse(json) as { candidates: { content: { parts: { inlineData?: { mimeType: string; data: string } }[] } }[] };
  const part = parsed.candidates[0]?.content.parts.find((p) => p.inlineData)?.inlineData;
  if (!part) throw new Error('the emulator returned no image');
  const decoded = decodeImage({ mimeType: part.mimeType, base64: part.data });
  return { json, width: decoded.width, height: decoded.height };
}

async function collectInThisProcess(input: {
  name: string;
  file: string;
  lines: number;
  width: number;
  height: number;
  redisUrl: string;
}): Promise<CaseResult> {
  const { name, file, lines } = input;
  const dir = await mkdtemp(path.join(tmpdir(), 'bunch-bench-collect-'));
  const connection = createRedisConnection(input.redisUrl, 'producer');
  const runs = new RunStore(connection, 'bench');
  const runId = `bench-${name.replace(/\W+/g, '-').toLowerCase()}-${lines}-${Date.now()}`;
  const outDir = path.join(dir, 'out');
  const store = openObjectStore(pathToFileURL(outDir).href);
  const config = benchConfig(runId, pathToFileURL(outDir).href);
  await runs.createRun(config);
  await runs.markPlanned(runId, lines, 0);
  const targets = new Map<string, ItemTarget>();
  for (let i = 0; i < lines; i += 1) {
    const key = `SKU-${i}#main`;
    targets.set(key, {
      index: i,
      itemKey: key,
      rowKey: `SKU-${i}`,
      variant: 'main',
      rowNumber: i + 2,
      model: MODEL,
      inputHash: `h${i}`,
      objectKey: `images/${i}.{{ext}}`,
      captionKey: `images/${i}.txt`,
      markerKey: `_bunch/results/${i}.json`,
      expected: { width: input.width, height: input.height },
    });
  }
  const fileBytes = (await stat(file)).size;

  global.gc?.();
  const baseline = process.memoryUsage().rss;
  let peak = baseline;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 20);
  const started = performance.now();
  const outcome = await collectBatchResults(
    { name: 'batches/bench', state: 'SUCCEEDED', terminal: true, stats: { requests: lines, succeeded: lines, failed: 0, pending: 0 }, responsesFile: 'files/batch-bench' },
    targets,
    {
      runs,
      store,
      config,
      // The download is a local copy: the emulator's HTTP download is measured in its own tests.
      client: {
        download: async (_path, destination) => {
          await pipeline(createReadStream(file), createWriteStream(destination as string));
          return { bytes: fileBytes };
        },
      },
      logger: silentLogger(),
      onRunComplete: async () => undefined,
      tempRoot: dir,
    },
  );
  const seconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().rss);
  await store.close();
  connection.disconnect();
  await rm(dir, { recursive: true, force: true });
  const mb = fileBytes / 1e6;
  console.error(`  ${name}: ${lines} lines, ${mb.toFixed(1)} MB in ${seconds.toFixed(1)} s, peak RSS ${(peak / 1e6).toFixed(0)} MB`);
  return {
    name,
    lines,
    fileMB: mb,
    seconds,
    mbPerSecond: mb / seconds,
    itemsPerSecond: lines / seconds,
    peakRssMB: peak / 1e6,
    baselineRssMB: baseline / 1e6,
    succeeded: outcome.succeeded,
  };
}

function benchConfig(runId: string, outputUrl: string): RunConfig {
  return {
    runId,
    jobName: 'bench',
    jobFile: 'bench.yaml',
    model: MODEL,
    lane: 'batch',
    outputUrl,
    wantImage: true,
    wantText: true,
    sync: { timeoutMs: 35_000, attempts: 3, backoff: { initialMs: 1000, maxMs: 10_000, jitter: 0.5 } },
    batch: { deadlineMs: 24 * 3600_000, onUnfinished: 'sync', maxRequestsPerBatch: 100_000, maxConcurrentBatches: 10, pollIntervalMs: 30_000 },
    pricing: { usdPerImage: 0.058, batchDiscount: 0.5 },
    maxFailedRatio: 0.02,
    createdAt: new Date().toISOString(),
  };
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
