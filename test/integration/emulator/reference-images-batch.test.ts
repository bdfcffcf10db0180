import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GoogleGenAI, JobState, type BatchJob } from '@google/genai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../../src/emulator/start-emulator.js';
import { BLUE, RED, imageDataOf, readOutput, solidImage } from './reference-image-fixtures.js';

const KEY = 'ref-batch-key';
const MODEL = 'gemini-3.1-flash-image-preview';
const TERMINAL = new Set<string>([JobState.JOB_STATE_SUCCEEDED, JobState.JOB_STATE_FAILED, JobState.JOB_STATE_CANCELLED, JobState.JOB_STATE_EXPIRED]);
const CONFIG = { responseModalities: ['IMAGE'], imageConfig: { imageSize: '512', aspectRatio: '1:1' } };

/** Batch shards whose lines carry `fileData` parts naming files uploaded to the emulator. */
describe('reference images in Batch API jobs', () => {
  let emulator: RunningEmulator;
  let ai: GoogleGenAI;
  let dir: string;

  beforeAll(async () => {
    emulator = await startEmulator({ apiKey: KEY, profile: { batch: { pendingMs: 0, runningMs: 0 } } });
    ai = new GoogleGenAI({ apiKey: KEY, httpOptions: { baseUrl: emulator.url } });
    dir = await mkdtemp(join(tmpdir(), 'bunch-ref-batch-'));
  });
  afterAll(async () => {
    await emulator.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function waitForJob(name: string): Promise<BatchJob> {
    for (;;) {
      const job = await ai.batches.get({ name });
      if (TERMINAL.has(job.state ?? '')) return job;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  async function uploadPng(colour: typeof RED): Promise<{ bytes: Buffer; uri: string; name: string }> {
    const bytes = await solidImage('png', colour, 24, 24);
    const file = await ai.files.upload({ file: new Blob([bytes], { type: 'image/png' }), config: { mimeType: 'image/png' } });
    return { bytes, uri: file.uri ?? '', name: file.name ?? '' };
  }

  function request(fileUri: string, text: string) {
    return { contents: [{ role: 'user', parts: [{ fileData: { mimeType: 'image/png', fileUri } }, { text }] }], generationConfig: CONFIG };
  }

  it('a JSONL shard with fileData lines succeeds; outputs derive from the files and equal the sync answer', async () => {
    const red = await uploadPng(RED);
    const blue = await uploadPng(BLUE);
    const lines = [
      { key: 'sku-red', request: request(red.uri, 'hero shot') },
      { key: 'sku-blue', request: request(blue.name, 'hero shot') },
      { key: 'sku-gone', request: request('files/nosuchfile9', 'hero shot') },
    ];
    const input = join(dir, 'shard.jsonl');
    await writeFile(input, lines.map((line) => JSON.stringify(line)).join('\n') + '\n');
    const shard = await ai.files.upload({ file: input, config: { mimeType: 'application/jsonl' } });
    const created = await ai.batches.create({ model: MODEL, src: shard.name ?? '' });
    const job = await waitForJob(created.name ?? '');
    expect(job.state).toBe(JobState.JOB_STATE_SUCCEEDED);

    const downloadPath = join(dir, 'results.jsonl');
    await ai.files.download({ file: job.dest?.fileName ?? '', downloadPath });
    const results = (await readFile(downloadPath, 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as Record<string, any>);
    expect(results.map((line) => line['key'])).toEqual(['sku-red', 'sku-blue', 'sku-gone']);

    const redOut = readOutput(imageDataOf(results[0]?.['response']));
    const blueOut = readOutput(imageDataOf(results[1]?.['response']));
    expect(redOut.solid?.r).toBeGreaterThanOrEqual(191);
    expect(redOut.solid?.b).toBeLessThanOrEqual(64);
    expect(blueOut.solid?.b).toBeGreaterThanOrEqual(191);
    expect(blueOut.solid?.r).toBeLessThanOrEqual(64);
    // The per-item error is the bare google.rpc.Status: 7 = PERMISSION_DENIED.
    expect(results[2]).toEqual({
      key: 'sku-gone',
      error: { code: 7, message: 'You do not have permission to access the File nosuchfile9 or it may not exist.' },
    });

    // Same request synchronously, with the bytes inline: the same image.
    const sync = await ai.models.generateContent({
      model: MODEL,
      contents: [{ role: 'user', parts: [{ inlineData: { mimeType: 'image/png', data: red.bytes.toString('base64') } }, { text: 'hero shot' }] }],
      config: CONFIG,
    });
    expect(imageDataOf(sync)).toBe(imageDataOf(results[0]?.['response']));
  });

  it('an inline batch resolves fileData the same way', async () => {
    const red = await uploadPng(RED);
    const created = await ai.batches.create({
      model: MODEL,
      src: [
        {
          contents: [{ role: 'user', parts: [{ fileData: { mimeType: 'image/png', fileUri: red.uri } }, { text: 'inline batch' }] }],
          config: CONFIG,
          metadata: { key: 'a' },
        },
      ],
    });
    const job = await waitForJob(created.name ?? '');
    expect(job.state).toBe(JobState.JOB_STATE_SUCCEEDED);
    const output = readOutput(imageDataOf(job.dest?.inlinedResponses?.[0]?.response));
    expect([output.width, output.height]).toEqual([512, 512]);
    expect(output.solid?.r).toBeGreaterThanOrEqual(191);
  });
});
