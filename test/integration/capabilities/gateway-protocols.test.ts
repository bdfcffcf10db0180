import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BunchError } from '../../../src/errors/bunch-error.js';
import { startRun } from '../../../src/lanes/start-run.js';
import type { ManifestItemLine, ManifestLine } from '../../../src/manifest/manifest-line.js';
import { silentLogger } from '../../../src/logging/create-logger.js';
import { emulatorGateways } from '../../../src/protocols/emulator-gateways.js';
import { loadJobFile } from '../../../src/spec/load-job-file.js';
import { productCsv, startBunchStack, type BunchStack } from '../../helpers/bunch-stack.js';
import { copyExampleJobs, type ExampleJobs } from '../../helpers/example-jobs.js';

const items = (manifest: ManifestLine[]) => manifest.filter((line): line is ManifestItemLine => line.status !== 'rejected');

/**
 * Runs on a gateway's OpenAI- and Claude-compatible protocols, through the official clients, against
 * the emulator's endpoints: the example jobs, reference images, and the fault knobs classified and
 * retried as on the Gemini-native protocol.
 */
describe('gateway protocols, end to end', () => {
  let stack: BunchStack;
  let examples: ExampleJobs;
  let copy: string;
  beforeAll(async () => {
    stack = await startBunchStack({ concurrency: 8 });
    await stack.startWorkers();
    examples = await copyExampleJobs(stack.dir.path);
    copy = examples.dir;
  });
  afterAll(async () => stack?.stop());

  const exampleJob = (name: string) => examples.job(name);

  const routeCount = (route: string) => stack.emulator.requestLog.count({ route });
  const gatewayJob = (protocol: 'openai' | 'anthropic', prompt: string, rows = 2) =>
    stack.writeJob({ catalogCsv: productCsv(rows), job: { protocol, prompt: `${prompt} (${protocol})`, generation: { responseModalities: ['IMAGE', 'TEXT'] } } });

  for (const [name, route] of [
    ['gateway-openai', 'openai.images.generations'],
    ['gateway-claude', 'claude.messages'],
  ] as const) {
    it(`${name}: every product drawn through the ${route} endpoint, at the flat price, no Gemini-native call`, async () => {
      const calls = routeCount(route);
      const native = routeCount('generateContent');
      const run = await stack.start(await exampleJob(name));
      const meta = await stack.waitForRun(run.runId);
      expect(meta.counts).toEqual({ succeeded: 24, failed: 0, skipped: 0, cancelled: 0 });
      expect(routeCount(route) - calls).toBe(24);
      expect(routeCount('generateContent') - native).toBe(0);
      const store = stack.storeFor(run.outputUrl);
      const manifest = items(await stack.readManifest(store, run.runId));
      for (const line of manifest) {
        expect(line).toMatchObject({ status: 'succeeded', lane: 'sync', attempts: 1, costUsd: 0.058 });
        const image = (await store.get(line.image!.key))!;
        const metadata = await sharp(image).metadata();
        expect([metadata.format, metadata.width, metadata.height]).toEqual(['png', line.image?.width, line.image?.height]);
      }
      expect(meta.costUsd).toBeCloseTo(24 * 0.058, 9);
    });
  }

  it('openai: the photos go to images.edit; anthropic: as image blocks', async () => {
    for (const [protocol, route] of [
      ['openai', 'openai.images.edits'],
      ['anthropic', 'claude.messages'],
    ] as const) {
      const base = await readFile(path.join(copy, 'shopify-photos.yaml'), 'utf8');
      // The Shopify photos example without its sized variants and image config (native-only).
      const portable = base
        .replace(/\nvariants:\n(?:  .*\n)+/, '\n')
        .replace(/\ngeneration:\n(?:  .*\n)+/, '\n')
        .replace(/^name: .*$/m, `name: photos-${protocol}`)
        .replace('url: file://../out/shopify-photos', `url: file://${path.join(stack.dir.path, 'out', `photos-${protocol}`)}`);
      expect(portable).not.toMatch(/variants:|imageConfig/);
      const file = path.join(copy, `photos-${protocol}.yaml`);
      await writeFile(file, `${portable}protocol: ${protocol}\npricing: { usdPerImage: 0.058 }\n`);
      const before = routeCount(route);
      const run = await stack.start(file);
      const meta = await stack.waitForRun(run.runId);
      expect(meta.counts).toEqual({ succeeded: 7, failed: 0, skipped: 0, cancelled: 0 });
      expect(routeCount(route) - before).toBe(7);
      const inputs = stack.emulator.requestLog.list({ route }).slice(-7);
      // Every request carried the variant's photos: the first jacket variant has three.
      for (const entry of inputs) expect(entry.inputImages?.length ?? 0).toBeGreaterThan(0);
      const manifest = items(await stack.readManifest(stack.storeFor(run.outputUrl), run.runId));
      expect(manifest.find((line) => line.key === 'FJ-NVY')?.references?.length).toBe(3);
    }
  });

  it.each(['openai', 'anthropic'] as const)('%s: a 503 and a 429 are retried, the answer kept; the call deadline is E_TIMEOUT', async (protocol) => {
    const flaky = await stack.start(await gatewayJob(protocol, 'Photo of {{title}} [[emu:fail-first=1:503]]'));
    const flakyMeta = await stack.waitForRun(flaky.runId);
    expect(flakyMeta.counts).toEqual({ succeeded: 2, failed: 0, skipped: 0, cancelled: 0 });
    for (const line of items(await stack.readManifest(stack.storeFor(flaky.outputUrl), flaky.runId))) {
      expect(line.attempts).toBe(2);
      expect(line.history?.[0]).toMatchObject({ code: 'E_UPSTREAM' });
    }
    const limited = await stack.start(await gatewayJob(protocol, 'Photo of {{title}} [[emu:fail-first=1:429:retry=1s]]'));
    expect((await stack.waitForRun(limited.runId)).counts).toEqual({ succeeded: 2, failed: 0, skipped: 0, cancelled: 0 });
    for (const line of items(await stack.readManifest(stack.storeFor(limited.outputUrl), limited.runId))) {
      expect(line.history?.[0]).toMatchObject({ code: 'E_RATE_LIMITED' });
    }
    const slowFile = await stack.writeJob({
      catalogCsv: productCsv(1),
      job: { protocol, prompt: `Photo of {{title}} [[emu:latency=3s]] (${protocol})`, generation: { responseModalities: ['IMAGE', 'TEXT'] }, sync: { attempts: 2, timeoutMs: 300, backoff: { initialMs: 50, maxMs: 100, jitter: 0 } } },
    });
    const slow = await stack.start(slowFile);
    expect((await stack.waitForRun(slow.runId)).counts).toEqual({ succeeded: 0, failed: 1, skipped: 0, cancelled: 0 });
    const [line] = items(await stack.readManifest(stack.storeFor(slow.outputUrl), slow.runId));
    expect([line?.errorCode, line?.attempts]).toEqual(['E_TIMEOUT', 2]);
  });

  it('anthropic: a refusal is a safety outcome, not retried', async () => {
    const run = await stack.start(await gatewayJob('anthropic', 'Photo of {{title}} [[emu:image-safety]]', 1));
    expect((await stack.waitForRun(run.runId)).counts).toEqual({ succeeded: 0, failed: 1, skipped: 0, cancelled: 0 });
    const [line] = items(await stack.readManifest(stack.storeFor(run.outputUrl), run.runId));
    expect([line?.errorCode, line?.attempts, line?.finishReason]).toEqual(['E_SAFETY_BLOCKED', 1, 'SAFETY']);
  });

  it('a run on a gateway protocol skips the Gemini-native model preflight', async () => {
    const job = await loadJobFile(await gatewayJob('openai', 'Photo of {{title}}', 1));
    const refuse = async () => {
      throw new BunchError('E_AUTH', 'models.get is not served by this gateway');
    };
    const run = await startRun(job, { runs: stack.plane.runs, queues: stack.plane.queues, openStore: stack.storeFor, logger: silentLogger(), preflight: refuse });
    expect((await stack.waitForRun(run.runId)).counts.succeeded).toBe(1);
    const native = await loadJobFile(await stack.writeJob({ catalogCsv: productCsv(1) }));
    await expect(startRun(native, { runs: stack.plane.runs, queues: stack.plane.queues, openStore: stack.storeFor, logger: silentLogger(), preflight: refuse })).rejects.toMatchObject({ code: 'E_AUTH' });
  });
});

/**
 * Gateways that draw in chat completions (BUNCH_OPENAI_MODE=chat): the `openai` client's
 * chat.completions.create, images read from `message.images` data URLs.
 */
describe('gateway protocols: OpenAI chat completions mode', () => {
  let stack: BunchStack;
  beforeAll(async () => {
    stack = await startBunchStack({ concurrency: 4 });
    await stack.startWorkers({ gateways: emulatorGateways(stack.emulator.url, stack.emulator.apiKey ?? 'unused', 'chat') });
  });
  afterAll(async () => stack?.stop());

  const chatJob = (prompt: string, rows: number, extra: Record<string, unknown> = {}) =>
    stack.writeJob({ catalogCsv: productCsv(rows), job: { protocol: 'openai', prompt, generation: { responseModalities: ['IMAGE', 'TEXT'] }, ...extra } });

  it('draws every row through chat completions and keeps the caption', async () => {
    const run = await stack.start(await chatJob('Studio photo of {{title}} (chat)', 6));
    expect((await stack.waitForRun(run.runId)).counts).toEqual({ succeeded: 6, failed: 0, skipped: 0, cancelled: 0 });
    expect(stack.emulator.requestLog.count({ route: 'openai.chat.completions', status: 200 })).toBe(6);
    expect(stack.emulator.requestLog.count({ route: 'openai.images.generations' }) + stack.emulator.requestLog.count({ route: 'generateContent' })).toBe(0);
    const store = stack.storeFor(run.outputUrl);
    for (const line of items(await stack.readManifest(store, run.runId))) {
      const metadata = await sharp((await store.get(line.image!.key))!).metadata();
      expect([metadata.format, metadata.width, metadata.height]).toEqual(['png', line.image?.width, line.image?.height]);
      expect(line.caption?.text).toMatch(/^Here is the image you asked for: Studio photo of /);
    }
  });

  it('faults are classified and retried as on the other protocols; a filtered answer is a safety outcome', async () => {
    const flaky = await stack.start(await chatJob('Photo of {{title}} [[emu:fail-first=1:503]] (chat)', 2));
    expect((await stack.waitForRun(flaky.runId)).counts).toEqual({ succeeded: 2, failed: 0, skipped: 0, cancelled: 0 });
    for (const line of items(await stack.readManifest(stack.storeFor(flaky.outputUrl), flaky.runId))) {
      expect([line.attempts, line.history?.[0]?.code]).toEqual([2, 'E_UPSTREAM']);
    }
    const limited = await stack.start(await chatJob('Photo of {{title}} [[emu:fail-first=1:429:retry=1s]] (chat)', 1));
    expect((await stack.waitForRun(limited.runId)).counts.succeeded).toBe(1);
    const [retried] = items(await stack.readManifest(stack.storeFor(limited.outputUrl), limited.runId));
    expect(retried?.history?.[0]).toMatchObject({ code: 'E_RATE_LIMITED' });
    const unsafe = await stack.start(await chatJob('Photo of {{title}} [[emu:image-safety]] (chat)', 1));
    expect((await stack.waitForRun(unsafe.runId)).counts.failed).toBe(1);
    const [refused] = items(await stack.readManifest(stack.storeFor(unsafe.outputUrl), unsafe.runId));
    expect([refused?.errorCode, refused?.attempts, refused?.finishReason]).toEqual(['E_SAFETY_BLOCKED', 1, 'SAFETY']);
  });
});
