/**
 * `npm run bench:batch`: the batch lane's result collection, side by side in one process against
 * one private redis-server, file:// storage under a temp dir, and the emulator (for real response
 * bodies only). Two result files are collected the way a worker collects them (download to a temp
 * file, stream line by line, decode + validate + store + record each item):
 *   small — 10,000 lines with a small (512 px) image each;
 *   4k    — realistic 4K lines (emulator `realisticPayload`), ~tens of MB of base64 per line.
 * Reported per file: size, lines, seconds, MB/s, and the peak RSS of this process sampled every
 * 20 ms during the collection (target: independent of file size and under 400 MB).
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
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { startEmulator } from '../src/emulator/start-emulator.js';
import { decodeImage } from '../src/image/decode-image.js';
import { collectBatchResults } from '../src/lanes/batch/collect-results.js';
import { silentLogger } from '../src/logging/create-logger.js';
import { startPrivateRedis } from '../src/local/start-private-redis.js';
import type { ItemTarget } from '../src/outputs/item-target.js';
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
  const { values } = parseArgs({ options: { small: { type: 'string' }, big: { type: 'string' }, json: { type: 'boolean', default: false } } });
  const smallLines = Number(values.small ?? 10_000);
  const bigLines = Number(values.big ?? 60);
  console.error(`bench:batch — ${cpus().length} CPUs, load ${loadavg().map((n) => n.toFixed(2)).join(' ')}, node ${process.version}`);

  const dir = await mkdtemp(path.join(tmpdir(), 'bunch-bench-batch-'));
  const redis = await startPrivateRedis();
  const emulator = await startEmulator({ apiKey: null });
  const connection = createRedisConnection(redis.url, 'producer');
  const results: CaseResult[] = [];
  try {
    const runs = new RunStore(connection, 'bench');
    const smallResponse = await sampleResponse(emulator.url, '512', false);
    const bigResponse = await sampleResponse(emulator.url, '4K', true);
    // Only the sample bodies were needed: the collecting process should not carry the emulator.
    await emulator.close();
    results.push(await runCase('small 512px', smallLines, smallResponse, { dir, runs }));
    results.push(await runCase('realistic 4K', bigLines, bigResponse, { dir, runs }));
  } finally {
    connection.disconnect();
    await emulator.close();
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

async function runCase(
  name: string,
  lines: number,
  sample: { json: string; width: number; height: number },
  env: { dir: string; runs: RunStore },
): Promise<CaseResult> {
  const runId = `bench-${name.replace(/\W+/g, '-').toLowerCase()}-${Date.now()}`;
  const outDir = path.join(env.dir, runId);
  const store = openObjectStore(pathToFileURL(outDir).href);
  const config = benchConfig(runId, pathToFileURL(outDir).href);
  await env.runs.createRun(config);
  await env.runs.markPlanned(runId, lines, 0);

  // The result file: one line per item, keys as the lane writes them, written streaming.
  const resultFile = path.join(env.dir, `${runId}.jsonl`);
  const out = createWriteStream(resultFile);
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
      expected: { width: sample.width, height: sample.height },
    });
    if (!out.write(`{"key":${JSON.stringify(key)},"response":${sample.json}}\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  const fileBytes = (await stat(resultFile)).size;

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
      runs: env.runs,
      store,
      config,
      // The download is a local copy: the emulator's HTTP download is measured in its own tests.
      client: {
        download: async (_path, destination) => {
          await pipeline(createReadStream(resultFile), createWriteStream(destination as string));
          return { bytes: fileBytes };
        },
      },
      logger: silentLogger(),
      onRunComplete: async () => undefined,
      tempRoot: env.dir,
    },
  );
  const seconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().rss);
  await store.close();
  await rm(resultFile, { force: true });
  await rm(outDir, { recursive: true, force: true });
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
