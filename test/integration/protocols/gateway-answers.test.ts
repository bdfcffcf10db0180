import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BunchError } from '../../../src/errors/bunch-error.js';
import type { GenerateContentRequest } from '../../../src/gemini/generate-content-request.js';
import type { ManifestItemLine } from '../../../src/manifest/manifest-line.js';
import { createAnthropicCaller } from '../../../src/protocols/anthropic-caller.js';
import { createOpenAiCaller } from '../../../src/protocols/openai-caller.js';
import { productCsv, startBunchStack, type BunchStack } from '../../helpers/bunch-stack.js';

/**
 * What a gateway answers that is not what the protocol promises, through the official clients
 * against a real HTTP server: hosted-URL images (paid for, unusable), answers of the wrong shape,
 * bodies over the cap, and the sampling settings the request carries (never silently dropped).
 */
type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void;

let server: Server;
let base = '';
let handler: Handler = (_req, _body, res) => res.end();
const received: { url: string; body: Record<string, unknown> }[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let parsed: Record<string, unknown> = {};
      try {
        parsed = JSON.parse(body) as Record<string, unknown>;
      } catch {
        // multipart (images.edit): not inspected here
      }
      received.push({ url: req.url ?? '', body: parsed });
      handler(req, body, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => new Promise<void>((resolve) => server.close(() => resolve())));

const json = (value: unknown, status = 200): Handler => (_req, _body, res) => {
  const text = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
};

const request = (generationConfig: Record<string, unknown> = {}) =>
  ({ contents: [{ role: 'user', parts: [{ text: 'Studio photo of a mug' }] }], generationConfig: { responseModalities: ['IMAGE', 'TEXT'], ...generationConfig } }) as unknown as GenerateContentRequest;

async function failureOf(promise: Promise<unknown>): Promise<BunchError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(BunchError);
  return error as BunchError;
}

const chatAnswer = (images: unknown) => ({
  id: 'chatcmpl-1',
  object: 'chat.completion',
  created: 1,
  model: 'm',
  choices: [{ index: 0, message: { role: 'assistant', content: 'A mug', images }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 10, completion_tokens: 1290, total_tokens: 1300 },
});

describe('gateway answers the protocol does not promise', () => {
  it('a chat image given as a hosted URL is a paid answer with an unusable image (its query, a signed credential, left out)', async () => {
    handler = json(chatAnswer([{ type: 'image_url', image_url: { url: 'https://cdn.gateway.example/out/abc.png?X-Amz-Signature=s3cr3t' } }]));
    const caller = createOpenAiCaller({ apiKey: 'k', baseUrl: `${base}/v1`, mode: 'chat' });
    const { response } = await caller.generateContent('m', request(), { timeoutMs: 5000 });
    expect(response.usage).toMatchObject({ promptTokens: 10, outputTokens: 1290 });
    expect(response.images).toEqual([
      { mimeType: 'image/png', base64: '', problem: 'the gateway answered the image as a hosted URL (https://cdn.gateway.example/out/abc.png?…), not base64 data' },
    ]);
    expect(JSON.stringify(response)).not.toContain('s3cr3t');
    expect(response.turn).toEqual([{ text: 'A mug' }]);
  });

  it('an Images API answer with a url instead of b64_json likewise', async () => {
    handler = json({ created: 1, data: [{ url: 'https://cdn.gateway.example/i.png' }] });
    const caller = createOpenAiCaller({ apiKey: 'k', baseUrl: `${base}/v1`, mode: 'images' });
    const { response } = await caller.generateContent('m', request(), { timeoutMs: 5000 });
    expect(response.images.map((image) => image.problem)).toEqual(['the gateway answered the image as a hosted URL (https://cdn.gateway.example/i.png), not base64 data']);
  });

  it('a usable base64 image is the answer even when a hosted preview comes first', async () => {
    const png = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';
    handler = json(chatAnswer([{ type: 'image_url', image_url: { url: 'https://cdn.gateway.example/preview.png' } }, { type: 'image_url', image_url: { url: `data:image/png;base64,${png}` } }]));
    const chat = createOpenAiCaller({ apiKey: 'k', baseUrl: `${base}/v1`, mode: 'chat' });
    const { response } = await chat.generateContent('m', request(), { timeoutMs: 5000 });
    expect(response.images.map((image) => [image.base64 === png, image.problem === undefined])).toEqual([
      [true, true],
      [false, false],
    ]);
    handler = json({ created: 1, data: [{ url: 'https://cdn.gateway.example/i.png' }, { b64_json: png }] });
    const images = createOpenAiCaller({ apiKey: 'k', baseUrl: `${base}/v1`, mode: 'images' });
    expect((await images.generateContent('m', request(), { timeoutMs: 5000 })).response.images[0]?.base64).toBe(png);
  });

  it('an entry of the wrong shape inside the answer is E_MALFORMED_RESPONSE too', async () => {
    const images = createOpenAiCaller({ apiKey: 'k', baseUrl: `${base}/v1`, mode: 'images' });
    handler = json({ created: 1, data: [null] });
    expect(await failureOf(images.generateContent('m', request(), { timeoutMs: 5000 }))).toMatchObject({
      code: 'E_MALFORMED_RESPONSE',
      message: 'OpenAI-compatible answer has an unexpected shape: an entry of data is not an object',
    });
    handler = json({ created: 1, data: [{ b64_json: 42 }] });
    expect((await images.generateContent('m', request(), { timeoutMs: 5000 })).response.images.map((image) => image.problem)).toEqual([
      'an image of the answer has b64_json that is not base64 text',
    ]);
    handler = json({ id: 'msg_1', type: 'message', role: 'assistant', model: 'm', content: [null], stop_reason: 'end_turn', usage: { input_tokens: 1, output_tokens: 1 } });
    const claude = createAnthropicCaller({ apiKey: 'k', baseUrl: base });
    expect(await failureOf(claude.generateContent('m', request(), { timeoutMs: 5000 }))).toMatchObject({
      code: 'E_MALFORMED_RESPONSE',
      message: 'Claude-compatible answer has an unexpected shape: a content block is not an object',
    });
  });

  it('a status beyond 599 is still classified by its status, not as a failed connection', async () => {
    handler = (_req, _body, res) => {
      res.writeHead(600, { 'content-type': 'application/json' });
      res.end('{"error":{"message":"gateway overloaded"}}');
    };
    const chat = createOpenAiCaller({ apiKey: 'k', baseUrl: `${base}/v1`, mode: 'chat' });
    const failure = await failureOf(chat.generateContent('m', request(), { timeoutMs: 5000 }));
    expect([failure.code, failure.status, failure.message]).toEqual(['E_UPSTREAM', 600, 'OpenAI-compatible API answered HTTP 600: gateway overloaded']);
  });

  it('a data URL is the image wherever it comes (Images API url, media-type parameters); token counts must be counts', async () => {
    const png = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';
    handler = json({ created: 1, data: [{ url: `data:image/png;base64,${png}` }] });
    const images = createOpenAiCaller({ apiKey: 'k', baseUrl: `${base}/v1`, mode: 'images' });
    // Before: "hosted URL (null…)", paid twice and failed.
    expect((await images.generateContent('m', request(), { timeoutMs: 5000 })).response.images).toEqual([{ mimeType: 'image/png', base64: png }]);
    handler = json(chatAnswer([{ type: 'image_url', image_url: { url: `DATA:Image/PNG;charset=binary;BASE64,${png}` } }]));
    const chat = createOpenAiCaller({ apiKey: 'k', baseUrl: `${base}/v1`, mode: 'chat' });
    expect((await chat.generateContent('m', request(), { timeoutMs: 5000 })).response.images).toEqual([{ mimeType: 'image/png', base64: png }]);
    handler = json({ ...chatAnswer([]), usage: { prompt_tokens: '10', completion_tokens: 1290 } });
    expect((await chat.generateContent('m', request(), { timeoutMs: 5000 })).response.usage).toMatchObject({ promptTokens: 10, outputTokens: 1290, totalTokens: 1300 });
    handler = json({ ...chatAnswer([]), usage: { prompt_tokens: 'ten', completion_tokens: 1290 } });
    expect(await failureOf(chat.generateContent('m', request(), { timeoutMs: 5000 }))).toMatchObject({
      code: 'E_MALFORMED_RESPONSE',
      message: 'OpenAI-compatible answer has an unexpected shape: a token count is "ten"',
    });
  });

  it('an error answer keeps its status whatever its size: only its head is read', async () => {
    const page = `<html><body><h1>Service unavailable</h1>${'x'.repeat(4000)}</body></html>`;
    handler = (_req, _body, res) => {
      res.writeHead(503, { 'content-type': 'text/html', 'content-length': Buffer.byteLength(page) });
      res.end(page);
    };
    const chat = createOpenAiCaller({ apiKey: 'k', baseUrl: `${base}/v1`, mode: 'chat', maxResponseBytes: 1024 });
    const failure = await failureOf(chat.generateContent('m', request(), { timeoutMs: 5000 }));
    // Before: E_RESPONSE_TOO_LARGE, no status, not retried and counted as maybe billed.
    expect([failure.code, failure.status, failure.retryable]).toEqual(['E_UPSTREAM', 503, true]);
    handler = (_req, _body, res) => {
      const body = JSON.stringify({ error: { message: 'Rate limit reached', type: 'requests', pad: 'y'.repeat(4000) } });
      res.writeHead(429, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'retry-after': '3' });
      res.end(body);
    };
    const limited = await failureOf(chat.generateContent('m', request(), { timeoutMs: 5000 }));
    expect([limited.code, limited.status, limited.retryAfterMs, limited.message]).toEqual(['E_RATE_LIMITED', 429, 3000, 'OpenAI-compatible API answered HTTP 429: Rate limit reached']);
  });

  it('an answer of the wrong shape is E_MALFORMED_RESPONSE, not a network failure', async () => {
    handler = json({ result: 'ok' });
    const chat = createOpenAiCaller({ apiKey: 'k', baseUrl: `${base}/v1`, mode: 'chat' });
    expect(await failureOf(chat.generateContent('m', request(), { timeoutMs: 5000 }))).toMatchObject({
      code: 'E_MALFORMED_RESPONSE',
      message: 'OpenAI-compatible answer has an unexpected shape: no choices list',
    });
    const claude = createAnthropicCaller({ apiKey: 'k', baseUrl: base });
    expect(await failureOf(claude.generateContent('m', request(), { timeoutMs: 5000 }))).toMatchObject({
      code: 'E_MALFORMED_RESPONSE',
      message: 'Claude-compatible answer has an unexpected shape: no content list',
    });
    handler = json({ created: 1, data: 'nothing' });
    const images = createOpenAiCaller({ apiKey: 'k', baseUrl: `${base}/v1`, mode: 'images' });
    expect((await failureOf(images.generateContent('m', request(), { timeoutMs: 5000 }))).code).toBe('E_MALFORMED_RESPONSE');
  });

  it('a body over the cap is E_RESPONSE_TOO_LARGE, announced or streamed', async () => {
    const big = JSON.stringify(chatAnswer([{ type: 'image_url', image_url: { url: `data:image/png;base64,${'A'.repeat(4096)}` } }]));
    handler = json(JSON.parse(big));
    const announced = createOpenAiCaller({ apiKey: 'k', baseUrl: `${base}/v1`, mode: 'chat', maxResponseBytes: 1024 });
    const first = await failureOf(announced.generateContent('m', request(), { timeoutMs: 5000 }));
    expect([first.code, first.message]).toEqual(['E_RESPONSE_TOO_LARGE', `response body is larger than the cap of 1024 bytes (maxResponseBytes): Content-Length announces ${big.length} bytes`]);
    // Chunked, no Content-Length: counted while it streams.
    handler = (_req, _body, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write(big.slice(0, 800));
      setTimeout(() => res.end(big.slice(800)), 20);
    };
    const streamed = await failureOf(announced.generateContent('m', request(), { timeoutMs: 5000 }));
    expect(streamed.code).toBe('E_RESPONSE_TOO_LARGE');
    expect(streamed.message).toMatch(/^response body is larger than the cap of 1024 bytes \(maxResponseBytes\): stopped reading after \d+ bytes$/);
    const claude = createAnthropicCaller({ apiKey: 'k', baseUrl: base, maxResponseBytes: 1024 });
    expect((await failureOf(claude.generateContent('m', request(), { timeoutMs: 5000 }))).code).toBe('E_RESPONSE_TOO_LARGE');
    // Under the cap, the same client reads the answer.
    handler = json(chatAnswer([]));
    const { response } = await announced.generateContent('m', request(), { timeoutMs: 5000 });
    expect(response.text).toBe('A mug');
  });

  it('temperature and seed go out on chat, temperature on the Messages API; the Images API refuses them before any call', async () => {
    handler = json(chatAnswer([]));
    received.length = 0;
    const chat = createOpenAiCaller({ apiKey: 'k', baseUrl: `${base}/v1`, mode: 'chat' });
    await chat.generateContent('m', request({ temperature: 0.4, seed: 42 }), { timeoutMs: 5000 });
    expect(received.map(({ url, body }) => [url, body['temperature'], body['seed']])).toEqual([['/v1/chat/completions', 0.4, 42]]);

    handler = json({ id: 'msg_1', type: 'message', role: 'assistant', model: 'm', content: [{ type: 'text', text: 'A mug' }], stop_reason: 'end_turn', usage: { input_tokens: 3, output_tokens: 4 } });
    received.length = 0;
    const claude = createAnthropicCaller({ apiKey: 'k', baseUrl: base });
    await claude.generateContent('m', request({ temperature: 0.4 }), { timeoutMs: 5000 });
    expect(received.map(({ url, body }) => [url, body['temperature']])).toEqual([['/v1/messages', 0.4]]);

    received.length = 0;
    const images = createOpenAiCaller({ apiKey: 'k', baseUrl: `${base}/v1`, mode: 'images' });
    const refused = await failureOf(images.generateContent('m', request({ seed: 42 }), { timeoutMs: 5000 }));
    expect([refused.code, refused.retryable, refused.message]).toEqual([
      'E_BAD_REQUEST',
      false,
      'generation.temperature and generation.seed cannot be sent through the OpenAI Images API (BUNCH_OPENAI_MODE=images); use BUNCH_OPENAI_MODE=chat or drop them',
    ]);
    expect(received).toEqual([]);
  });
});

describe('a hosted-URL image through the sync lane', () => {
  let stack: BunchStack;
  beforeAll(async () => {
    stack = await startBunchStack({ concurrency: 2 });
    await stack.startWorkers({
      gateways: { openai: { baseUrl: `${base}/v1`, apiKey: 'k', mode: 'chat' }, anthropic: { baseUrl: undefined, apiKey: undefined } },
    });
  });
  afterAll(async () => stack?.stop());

  it('is charged on every answer and asked for at most twice, as a broken image is (before: five calls, cost 0)', async () => {
    handler = json(chatAnswer([{ type: 'image_url', image_url: { url: 'https://cdn.gateway.example/out/abc.png' } }]));
    received.length = 0;
    const jobFile = await stack.writeJob({
      catalogCsv: productCsv(1),
      job: { protocol: 'openai', generation: { responseModalities: ['IMAGE', 'TEXT'] }, sync: { attempts: 5, backoff: { initialMs: 10, maxMs: 20, jitter: 0 } } },
    });
    const run = await stack.start(jobFile);
    const meta = await stack.waitForRun(run.runId);
    expect(received.filter(({ url }) => url === '/v1/chat/completions')).toHaveLength(2);
    expect(meta.counts).toEqual({ succeeded: 0, failed: 1, skipped: 0, cancelled: 0 });
    expect(meta.costUsd).toBeCloseTo(0.116, 9);
    expect(meta.uncertainUsd ?? 0).toBe(0);
    const [line] = (await stack.readManifest(stack.storeFor(run.outputUrl), run.runId)).filter((entry): entry is ManifestItemLine => entry.status === 'failed');
    expect(line).toMatchObject({
      status: 'failed',
      attempts: 2,
      costUsd: 0.058,
      errorCode: 'E_BAD_IMAGE',
      errorMessage: 'the gateway answered the image as a hosted URL (https://cdn.gateway.example/out/abc.png), not base64 data',
    });
  });
});
