import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiError, GoogleGenAI, JobState, type BatchJob } from '@google/genai';
import { PNG } from 'pngjs';
import { afterEach, describe, expect, it } from 'vitest';
import { isBunchError } from '../../../src/errors/bunch-error.js';
import { parseBatchKnobs } from '../../../src/emulator/batch/batch-knobs.js';
import { resolveBatchScenario } from '../../../src/emulator/batch/batch-scenario.js';
import { startHarness, TEST_API_KEY, type Harness, type HarnessOptions } from './files-batch-harness.js';

const MODEL = 'gemini-3.1-flash-image-preview';
const TERMINAL = new Set<string>([JobState.JOB_STATE_SUCCEEDED, JobState.JOB_STATE_FAILED, JobState.JOB_STATE_CANCELLED, JobState.JOB_STATE_EXPIRED]);

type Operation = {
  name: string;
  done?: boolean;
  error?: { code: number; message: string };
  response?: Record<string, unknown>;
  metadata: {
    '@type': string;
    state: string;
    batchStats: Record<string, string>;
    output?: Record<string, unknown>;
    [key: string]: unknown;
  };
};

const imageRequest = (prompt: string) => ({
  contents: [{ role: 'user', parts: [{ text: prompt }] }],
  generationConfig: { responseModalities: ['IMAGE'], imageConfig: { aspectRatio: '1:1', imageSize: '1K' } },
});

describe('emulator Batch API', () => {
  let harness: Harness | undefined;
  let dir: string | undefined;

  afterEach(async () => {
    await harness?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
    harness = undefined;
    dir = undefined;
  });

  async function setup(options: HarnessOptions = {}) {
    harness = await startHarness(options);
    dir = await mkdtemp(join(tmpdir(), 'bunch-batch-test-'));
    const ai = new GoogleGenAI({ apiKey: TEST_API_KEY, httpOptions: { baseUrl: harness.url } });
    return { h: harness, dir, ai };
  }

  const api = (h: Harness, path: string, init: RequestInit = {}) =>
    fetch(`${h.url}/v1beta/${path}`, {
      ...init,
      headers: { 'x-goog-api-key': TEST_API_KEY, 'content-type': 'application/json', ...(init.headers as Record<string, string>) },
    });

  async function createRaw(h: Harness, batch: unknown): Promise<Response> {
    return api(h, `models/${MODEL}:batchGenerateContent`, { method: 'POST', body: JSON.stringify({ batch }) });
  }

  async function getOp(h: Harness, name: string): Promise<Operation> {
    const res = await api(h, name);
    expect(res.status).toBe(200);
    return (await res.json()) as Operation;
  }

  /** Polls (waiting on state) until `accept` holds. */
  async function waitForOp(h: Harness, name: string, accept: (op: Operation) => boolean): Promise<Operation> {
    for (;;) {
      const op = await getOp(h, name);
      if (accept(op)) return op;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  async function waitForJob(ai: GoogleGenAI, name: string): Promise<BatchJob> {
    for (;;) {
      const job = await ai.batches.get({ name });
      if (TERMINAL.has(job.state ?? '')) return job;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  async function jsonlInput(h: Harness, folder: string, lines: unknown[]): Promise<string> {
    const path = join(folder, 'input.jsonl');
    await writeFile(path, lines.map((line) => JSON.stringify(line)).join('\n') + '\n');
    const ai = new GoogleGenAI({ apiKey: TEST_API_KEY, httpOptions: { baseUrl: h.url } });
    const file = await ai.files.upload({ file: path, config: { mimeType: 'application/jsonl' } });
    return file.name ?? '';
  }

  it('runs a JSONL batch end to end with the SDK: results in input order, decodable PNGs', async () => {
    const { h, dir, ai } = await setup({ batch: { pendingMs: 100, runningMs: 300 } });
    const keys = ['sku-9', 'sku-1', 'sku-5', 'sku-3', 'sku-7'];
    const src = await jsonlInput(h, dir, keys.map((key) => ({ key, request: imageRequest(`product ${key}`) })));

    const created = await ai.batches.create({ model: MODEL, src, config: { displayName: 'nightly shard 1' } });
    expect(created.name).toMatch(/^batches\/[a-z0-9]{36}$/);
    expect(created.state).toBe(JobState.JOB_STATE_PENDING);
    expect(created.displayName).toBe('nightly shard 1');
    expect(created.model).toBe(`models/${MODEL}`);

    const job = await waitForJob(ai, created.name ?? '');
    expect(job.state).toBe(JobState.JOB_STATE_SUCCEEDED);
    expect(job.dest?.fileName).toBe(`files/batch-${(created.name ?? '').slice('batches/'.length)}`);
    expect(job.endTime).toBeDefined();

    const resultFile = await ai.files.get({ name: job.dest?.fileName ?? '' });
    expect(resultFile.source).toBe('GENERATED');
    const downloadPath = join(dir, 'results.jsonl');
    await ai.files.download({ file: job.dest?.fileName ?? '', downloadPath });
    const lines = (await readFile(downloadPath, 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as Record<string, any>);
    expect(lines.map((line) => line['key'])).toEqual(keys);
    for (const line of lines) {
      const data = line['response']?.candidates?.[0]?.content?.parts?.[0]?.inlineData?.data as string;
      const png = PNG.sync.read(Buffer.from(data, 'base64'));
      expect(png.width).toBe(16);
    }
  });

  it('runs an inline batch with the SDK, echoing metadata, with per-item errors (partial success)', async () => {
    const { h, ai } = await setup({ batch: { pendingMs: 0, runningMs: 100 } });
    const created = await ai.batches.create({
      model: MODEL,
      src: [
        { contents: [{ role: 'user', parts: [{ text: 'a red mug' }] }], metadata: { key: 'mug' } },
        { contents: [{ role: 'user', parts: [{ text: 'a blue lamp [[emu:503]]' }] }], metadata: { key: 'lamp' } },
        { contents: [{ role: 'user', parts: [{ text: 'a green chair' }] }], metadata: { key: 'chair' } },
      ],
    });
    const job = await waitForJob(ai, created.name ?? '');
    expect(job.state).toBe(JobState.JOB_STATE_SUCCEEDED);
    const responses = job.dest?.inlinedResponses ?? [];
    expect(responses.map((r) => r.metadata?.['key'])).toEqual(['mug', 'lamp', 'chair']);
    expect(responses[0]?.response?.candidates?.[0]?.content?.parts?.[0]?.inlineData?.mimeType).toBe('image/png');
    expect(responses[1]?.response).toBeUndefined();
    expect(responses[1]?.error).toEqual({ code: 14, message: 'The model is overloaded.' });

    const op = await getOp(h, created.name ?? '');
    expect(op.metadata.batchStats).toEqual({ requestCount: '3', successfulRequestCount: '2', failedRequestCount: '1' });
    expect(op.response?.['@type']).toBe('type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatchOutput');
    expect(op.response?.['inlinedResponses']).toEqual(op.metadata.output?.['inlinedResponses']);
  });

  it('has the Operation wire shape: PENDING then RUNNING without `done`, output in both places, error lines', async () => {
    const { h, dir } = await setup({ batch: { pendingMs: 200, runningMs: 1500 } });
    const src = await jsonlInput(h, dir, [
      { key: 'ok-1', request: imageRequest('first') },
      { key: 'bad', request: imageRequest('second [[emu:500]]') },
      { key: 'ok-2', request: imageRequest('third') },
    ]);
    const res = await createRaw(h, { displayName: 'wire', inputConfig: { fileName: src } });
    expect(res.status).toBe(200);
    const created = (await res.json()) as Operation;
    const id = created.name.slice('batches/'.length);
    expect(created).toEqual({
      name: created.name,
      metadata: {
        '@type': 'type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatch',
        model: `models/${MODEL}`,
        displayName: 'wire',
        inputConfig: { fileName: src },
        createTime: expect.any(String),
        updateTime: expect.any(String),
        batchStats: { requestCount: '3', pendingRequestCount: '3' },
        state: 'BATCH_STATE_PENDING',
        name: created.name,
      },
    });

    const running = await waitForOp(h, created.name, (op) => op.metadata.state !== 'BATCH_STATE_PENDING');
    expect(running.metadata.state).toBe('BATCH_STATE_RUNNING');
    expect(running.done).toBeUndefined();
    expect(running.metadata.output).toBeUndefined();
    expect(running.response).toBeUndefined();

    const done = await waitForOp(h, created.name, (op) => op.done === true);
    expect(done.metadata.state).toBe('BATCH_STATE_SUCCEEDED');
    expect(done.metadata.batchStats).toEqual({ requestCount: '3', successfulRequestCount: '2', failedRequestCount: '1' });
    expect(done.metadata.output).toEqual({ responsesFile: `files/batch-${id}` });
    expect(done.response).toEqual({
      '@type': 'type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatchOutput',
      responsesFile: `files/batch-${id}`,
    });
    expect(done.error).toBeUndefined();
    expect(typeof done.metadata['endTime']).toBe('string');

    const download = await fetch(`${h.url}/download/v1beta/files/batch-${id}:download?alt=media`, { headers: { 'x-goog-api-key': TEST_API_KEY } });
    const lines = (await download.text()).trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.map((line) => line['key'])).toEqual(['ok-1', 'bad', 'ok-2']);
    expect(lines[1]).toEqual({ key: 'bad', error: { code: 13, message: 'Internal error encountered.' } });
    expect(Object.keys(lines[0] ?? {})).toEqual(['key', 'response']);
  });

  it('turns unusable JSONL lines into code-3 error lines and serves bare request lines without a key', async () => {
    const { h, dir } = await setup({ batch: { pendingMs: 0, runningMs: 50 } });
    const path = join(dir, 'mixed.jsonl');
    await writeFile(path, [JSON.stringify({ key: 'good', request: imageRequest('a') }), '{broken', '', JSON.stringify(imageRequest('bare'))].join('\n'));
    const ai = new GoogleGenAI({ apiKey: TEST_API_KEY, httpOptions: { baseUrl: h.url } });
    const file = await ai.files.upload({ file: path, config: { mimeType: 'application/jsonl' } });
    const created = (await (await createRaw(h, { displayName: 'mixed', inputConfig: { fileName: file.name } })).json()) as Operation;
    expect(created.metadata.batchStats).toEqual({ requestCount: '3', pendingRequestCount: '3' });
    const done = await waitForOp(h, created.name, (op) => op.done === true);
    expect(done.metadata.batchStats).toEqual({ requestCount: '3', successfulRequestCount: '2', failedRequestCount: '1' });
    const text = await (await fetch(`${h.url}/v1beta/${String(done.metadata.output?.['responsesFile'])}:download?alt=media`, { headers: { 'x-goog-api-key': TEST_API_KEY } })).text();
    const lines = text.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines[0]?.['key']).toBe('good');
    expect(lines[1]).toEqual({ error: { code: 3, message: 'Invalid JSON on input line 2.' } });
    expect(lines[2]?.['key']).toBeUndefined();
    expect(lines[2]?.['response']).toBeDefined();
  });

  it('plays the FAILED and EXPIRED scenarios: done, top-level error, no output', async () => {
    const { h } = await setup({ batch: { pendingMs: 0, runningMs: 100 } });
    const inline = { requests: { requests: [{ request: imageRequest('x'), metadata: { key: 'x' } }] } };
    const failed = (await (await createRaw(h, { displayName: 'shard [[emu-batch:failed]]', inputConfig: inline })).json()) as Operation;
    const expired = (await (await createRaw(h, { displayName: 'shard [[emu-batch:expired]]', inputConfig: inline })).json()) as Operation;

    const failedOp = await waitForOp(h, failed.name, (op) => op.done === true);
    expect(failedOp.metadata.state).toBe('BATCH_STATE_FAILED');
    expect(failedOp.error?.code).toBe(13);
    expect(failedOp.response).toBeUndefined();
    expect(failedOp.metadata.output).toBeUndefined();

    const expiredOp = await waitForOp(h, expired.name, (op) => op.done === true);
    expect(expiredOp.metadata.state).toBe('BATCH_STATE_EXPIRED');
    expect(expiredOp.error?.code).toBe(4);
    expect(expiredOp.metadata.output).toBeUndefined();
    expect(h.generateCalls()).toBe(0);
  });

  it('applies the profile outcome knob to every batch', async () => {
    const { h } = await setup({ batch: { pendingMs: 0, runningMs: 50, outcome: 'expired' } });
    const inline = { requests: { requests: [{ request: imageRequest('x') }] } };
    const op = (await (await createRaw(h, { displayName: 'plain', inputConfig: inline })).json()) as Operation;
    expect((await waitForOp(h, op.name, (o) => o.done === true)).metadata.state).toBe('BATCH_STATE_EXPIRED');
  });

  it('cancels mid-run: served items keep their results, unserved ones get code 1, state CANCELLED', async () => {
    const { h, dir, ai } = await setup({ batch: { pendingMs: 0, runningMs: 4000 } });
    const keys = ['k1', 'k2', 'k3', 'k4'];
    const src = await jsonlInput(h, dir, keys.map((key) => ({ key, request: imageRequest(key) })));
    const created = await ai.batches.create({ model: MODEL, src });
    // Items are served evenly over runningMs: wait until at least the first one is done.
    await waitForOp(h, created.name ?? '', (op) => op.metadata.batchStats['successfulRequestCount'] !== undefined);
    await ai.batches.cancel({ name: created.name ?? '' });

    const op = await getOp(h, created.name ?? '');
    expect(op.done).toBe(true);
    expect(op.metadata.state).toBe('BATCH_STATE_CANCELLED');
    expect(op.error).toBeUndefined();
    const served = Number(op.metadata.batchStats['successfulRequestCount']);
    expect(served).toBeGreaterThanOrEqual(1);
    expect(served).toBeLessThan(4);
    expect(op.metadata.batchStats['failedRequestCount']).toBe(String(4 - served));

    const downloadPath = join(dir, 'cancelled.jsonl');
    await ai.files.download({ file: `files/batch-${(created.name ?? '').slice(8)}`, downloadPath });
    const lines = (await readFile(downloadPath, 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as Record<string, any>);
    expect(lines.map((line) => line['key'])).toEqual(keys);
    lines.forEach((line, index) => {
      if (index < served) expect(line['response']).toBeDefined();
      else expect(line['error']).toEqual({ code: 1, message: expect.stringContaining('cancelled') });
    });
    expect(h.generateCalls()).toBe(served);
  });

  it('cancels a pending batch: CANCELLED with error code 1 and no output', async () => {
    const { h, ai } = await setup({ batch: { pendingMs: 60_000, runningMs: 100 } });
    const created = await ai.batches.create({ model: MODEL, src: [{ contents: [{ role: 'user', parts: [{ text: 'x' }] }] }] });
    const cancel = await api(h, `${created.name}:cancel`, { method: 'POST', body: '{}' });
    expect(cancel.status).toBe(200);
    expect(await cancel.json()).toEqual({});
    const op = await getOp(h, created.name ?? '');
    expect(op).toMatchObject({ done: true, error: { code: 1 }, metadata: { state: 'BATCH_STATE_CANCELLED' } });
    expect(op.metadata.output).toBeUndefined();
  });

  it('answers 429 RESOURCE_EXHAUSTED on create while maxActiveBatches are pending or running', async () => {
    const { h } = await setup({ batch: { pendingMs: 0, runningMs: 200, maxActiveBatches: 1 } });
    const inline = { requests: { requests: [{ request: imageRequest('x') }] } };
    const first = (await (await createRaw(h, { displayName: 'one', inputConfig: inline })).json()) as Operation;
    const second = await createRaw(h, { displayName: 'two', inputConfig: inline });
    expect(second.status).toBe(429);
    expect(await second.json()).toMatchObject({ error: { code: 429, status: 'RESOURCE_EXHAUSTED' } });
    await waitForOp(h, first.name, (op) => op.done === true);
    expect((await createRaw(h, { displayName: 'three', inputConfig: inline })).status).toBe(200);
  });

  it('creates the batch but resets the connection with [[emu-batch:reset-after-create]]', async () => {
    const { h } = await setup({ batch: { pendingMs: 0, runningMs: 50 } });
    const inline = { requests: { requests: [{ request: imageRequest('x'), metadata: { key: 'x' } }] } };
    const outcome = await createRaw(h, { displayName: 'crash [[emu-batch:reset-after-create]]', inputConfig: inline }).catch(
      (error: unknown) => error,
    );
    expect(outcome).toBeInstanceOf(TypeError);
    const list = (await (await api(h, 'batches')).json()) as { operations: Operation[] };
    expect(list.operations).toHaveLength(1);
    expect(list.operations[0]?.metadata['displayName']).toBe('crash [[emu-batch:reset-after-create]]');
  });

  it('lists page by page (newest first), deletes, and answers 404 for unknown batches', async () => {
    const { h, ai } = await setup({ batch: { pendingMs: 0, runningMs: 50 } });
    const names: string[] = [];
    for (const n of [1, 2, 3]) {
      const job = await ai.batches.create({ model: MODEL, src: [{ contents: [{ role: 'user', parts: [{ text: `p${n}` }] }] }], config: { displayName: `b${n}` } });
      names.push(job.name ?? '');
    }
    const page = (await (await api(h, 'batches?pageSize=2')).json()) as { operations: Operation[]; nextPageToken: string };
    expect(page.operations.map((op) => op.name)).toEqual([names[2], names[1]]);
    const rest = (await (await api(h, `batches?pageSize=2&pageToken=${page.nextPageToken}`)).json()) as { operations: Operation[]; nextPageToken?: string };
    expect(rest.operations.map((op) => op.name)).toEqual([names[0]]);
    expect(rest.nextPageToken).toBeUndefined();

    const pager = await ai.batches.list({ config: { pageSize: 2 } });
    const seen: string[] = [];
    for await (const job of pager) seen.push(job.name ?? '');
    expect(seen).toEqual([...names].reverse());

    await ai.batches.delete({ name: names[0] ?? '' });
    const gone = await ai.batches.get({ name: names[0] ?? '' }).catch((error: unknown) => error);
    expect(gone).toBeInstanceOf(ApiError);
    expect((gone as ApiError).status).toBe(404);
    const unknown = await api(h, 'batches/doesnotexist');
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: { code: 404, status: 'NOT_FOUND' } });
    expect((await api(h, 'batches/doesnotexist:cancel', { method: 'POST', body: '{}' })).status).toBe(404);
  });

  it('accepts snake_case create bodies and rejects bad ones with 400', async () => {
    const { h, dir } = await setup({ batch: { pendingMs: 0, runningMs: 50, maxInlineBodyBytes: 4096 } });
    const src = await jsonlInput(h, dir, [{ key: 'a', request: imageRequest('a') }]);
    const snake = await createRaw(h, { display_name: 'snake', input_config: { file_name: src } });
    expect(snake.status).toBe(200);
    expect(((await snake.json()) as Operation).metadata['displayName']).toBe('snake');

    const huge = await createRaw(h, { displayName: 'big', inputConfig: { requests: { requests: [{ request: imageRequest('x'.repeat(5000)) }] } } });
    expect(huge.status).toBe(400);
    expect(await huge.json()).toMatchObject({ error: { code: 400, status: 'INVALID_ARGUMENT' } });
    expect((await createRaw(h, { displayName: 'empty', inputConfig: { requests: { requests: [] } } })).status).toBe(400);
    expect((await createRaw(h, { displayName: 'nofile', inputConfig: { fileName: 'files/nosuchfile' } })).status).toBe(404);
    expect((await api(h, `models/${MODEL}:batchGenerateContent`, { method: 'POST', body: '{not json' })).status).toBe(400);
    const noKey = await fetch(`${h.url}/v1beta/batches`);
    expect(noKey.status).toBe(403);
  });
});

describe('batch knobs and displayName tags', () => {
  it('defaults every knob for undefined and rejects unknown or bad ones with E_CONFIG', () => {
    expect(parseBatchKnobs(undefined)).toEqual({
      pendingMs: 1000,
      runningMs: 2000,
      outcome: 'succeeded',
      maxActiveBatches: 100,
      resetAfterCreate: false,
      maxInlineBodyBytes: 20 * 1024 * 1024,
      maxFileBytes: 2 * 1024 * 1024 * 1024,
      fileTtlMs: 48 * 60 * 60 * 1000,
      tickMs: 20,
    });
    for (const bad of [{ pendingMs: -1 }, { outcome: 'exploded' }, { pendingMS: 5 }, 'fast']) {
      const error = (() => {
        try {
          parseBatchKnobs(bad);
        } catch (caught) {
          return caught;
        }
        return undefined;
      })();
      expect(isBunchError(error, 'E_CONFIG')).toBe(true);
    }
  });

  it('lets displayName tags override the profile for one batch', () => {
    const knobs = parseBatchKnobs({ outcome: 'expired', pendingMs: 10 });
    expect(resolveBatchScenario(knobs, 'plain')).toEqual({ outcome: 'expired', pendingMs: 10, runningMs: 2000, resetAfterCreate: false });
    expect(resolveBatchScenario(knobs, 'x [[emu-batch:succeeded]] [[emu-batch:running-ms=5]] [[emu-batch:reset-after-create]]')).toEqual({
      outcome: 'succeeded',
      pendingMs: 10,
      runningMs: 5,
      resetAfterCreate: true,
    });
    expect(resolveBatchScenario(knobs, '[[emu-batch:failed]] [[emu-batch:pending-ms=0]] [[emu-batch:unknown]]')).toMatchObject({ outcome: 'failed', pendingMs: 0 });
  });
});
