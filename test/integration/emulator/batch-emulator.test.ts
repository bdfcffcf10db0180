import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GoogleGenAI, JobState, type BatchJob } from '@google/genai';
import { imageSize } from 'image-size';
import { PNG } from 'pngjs';
import { afterEach, describe, expect, it } from 'vitest';
import { closeFilesAndBatches } from '../../../src/emulator/batch/batch-routes.js';
import { readJsonlLines } from '../../../src/emulator/batch/read-jsonl-lines.js';
import { startEmulator, type RunningEmulator } from '../../../src/emulator/start-emulator.js';

const MODEL = 'gemini-3.1-flash-image-preview';
const TERMINAL = new Set<string>([JobState.JOB_STATE_SUCCEEDED, JobState.JOB_STATE_FAILED, JobState.JOB_STATE_CANCELLED, JobState.JOB_STATE_EXPIRED]);

/** Files and Batch through the whole emulator (real generateContent engine, trigger phrases). */
describe('emulator Batch API on startEmulator', () => {
  let emulator: RunningEmulator | undefined;
  let dir: string | undefined;

  afterEach(async () => {
    if (emulator) {
      await closeFilesAndBatches(emulator.context);
      await emulator.close();
    }
    if (dir) await rm(dir, { recursive: true, force: true });
    emulator = undefined;
    dir = undefined;
  });

  async function waitForJob(ai: GoogleGenAI, name: string): Promise<BatchJob> {
    for (;;) {
      const job = await ai.batches.get({ name });
      if (TERMINAL.has(job.state ?? '')) return job;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  it('serves a JSONL batch with real generated images and per-item trigger-phrase errors', async () => {
    emulator = await startEmulator({ profile: { batch: { pendingMs: 50, runningMs: 200 } } });
    dir = await mkdtemp(join(tmpdir(), 'bunch-batch-emu-'));
    const ai = new GoogleGenAI({ apiKey: emulator.apiKey ?? '', httpOptions: { baseUrl: emulator.url } });
    const prompts: [string, string][] = [
      ['hero-1', 'Studio photo of a red mug'],
      ['hero-2', 'Studio photo of a lamp [[emu:503]]'],
      ['story-1', 'Studio photo of a chair'],
    ];
    const input = join(dir, 'input.jsonl');
    await writeFile(
      input,
      prompts
        .map(([key, text]) =>
          JSON.stringify({ key, request: { contents: [{ role: 'user', parts: [{ text }] }], generation_config: { response_modalities: ['IMAGE'] } } }),
        )
        .join('\n'),
    );
    const file = await ai.files.upload({ file: input, config: { mimeType: 'application/jsonl' } });
    const created = await ai.batches.create({ model: MODEL, src: file.name ?? '', config: { displayName: 'emu run' } });
    const job = await waitForJob(ai, created.name ?? '');
    expect(job.state).toBe(JobState.JOB_STATE_SUCCEEDED);

    const downloadPath = join(dir, 'out.jsonl');
    await ai.files.download({ file: job.dest?.fileName ?? '', downloadPath });
    const lines = (await readFile(downloadPath, 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as Record<string, any>);
    expect(lines.map((line) => line['key'])).toEqual(['hero-1', 'hero-2', 'story-1']);
    expect(lines[1]?.['error']).toEqual({ code: 14, message: expect.any(String) });
    for (const index of [0, 2]) {
      const parts = lines[index]?.['response']?.candidates?.[0]?.content?.parts as { inlineData?: { data: string } }[];
      const image = parts.find((part) => part.inlineData)?.inlineData?.data ?? '';
      const png = PNG.sync.read(Buffer.from(image, 'base64'));
      expect(png.width).toBeGreaterThan(0);
    }
  });

  it('serves realistic 4K results (4096 px PNGs, ~24 MB lines) through the result file', async () => {
    emulator = await startEmulator({ realisticPayload: true, profile: { batch: { pendingMs: 0, runningMs: 0 } } });
    dir = await mkdtemp(join(tmpdir(), 'bunch-batch-emu-'));
    const ai = new GoogleGenAI({ apiKey: emulator.apiKey ?? '', httpOptions: { baseUrl: emulator.url } });
    const count = 3;
    const input = join(dir, 'input.jsonl');
    const request = { contents: [{ role: 'user', parts: [{ text: 'a sofa' }] }], generationConfig: { imageConfig: { imageSize: '4K', aspectRatio: '1:1' } } };
    await writeFile(input, Array.from({ length: count }, (_, i) => JSON.stringify({ key: `k${i}`, request })).join('\n'));
    const file = await ai.files.upload({ file: input, config: { mimeType: 'application/jsonl' } });

    let peakRss = process.memoryUsage().rss;
    const sampler = setInterval(() => {
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
    }, 20);
    try {
      const created = await ai.batches.create({ model: MODEL, src: file.name ?? '' });
      const job = await waitForJob(ai, created.name ?? '');
      expect(job.state).toBe(JobState.JOB_STATE_SUCCEEDED);
      const peakWhileRunning = peakRss;
      const response = await fetch(`${emulator.url}/v1beta/${job.dest?.fileName}:download?alt=media`, {
        headers: { 'x-goog-api-key': emulator.apiKey ?? '' },
      });
      const downloadPath = join(dir, 'out.jsonl');
      await writeFile(downloadPath, response.body as unknown as AsyncIterable<Uint8Array>);
      let seen = 0;
      let bytes = 0;
      for await (const line of readJsonlLines(downloadPath)) {
        const parsed = JSON.parse(line.text) as Record<string, any>;
        expect(parsed['key']).toBe(`k${seen}`);
        const data = (parsed['response'].candidates[0].content.parts as { inlineData?: { data: string } }[]).find((p) => p.inlineData)?.inlineData?.data ?? '';
        expect(imageSize(Buffer.from(data, 'base64'))).toMatchObject({ width: 4096, height: 4096, type: 'png' });
        bytes += line.text.length;
        seen += 1;
      }
      expect(seen).toBe(count);
      expect(bytes).toBeGreaterThan(count * 10_000_000);
      console.info(`[batch-emulator] peak RSS while generating ${count} realistic 4K items: ${Math.round(peakWhileRunning / 1e6)} MB`);
    } finally {
      clearInterval(sampler);
    }
    // Informational: most of this is the core's 4K PNG encoder (see batch-memory.test.ts for the
    // batch engine's own bound with 1,000 realistic-size items).
    console.info(`[batch-emulator] peak RSS with ${count} realistic 4K items: ${Math.round(peakRss / 1e6)} MB`);
  });
});
