import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../../src/emulator/start-emulator.js';
import { promptHashOf } from '../../../src/emulator/validate-generate-request.js';

let emulator: RunningEmulator;
const MODEL = 'gemini-3.1-flash-image-preview';

beforeAll(async () => {
  emulator = await startEmulator({ apiKey: 'k' });
});
afterAll(async () => {
  await emulator.close();
});

function generate(prompt: string, init: { headers?: Record<string, string>; signal?: AbortSignal; model?: string } = {}): Promise<Response> {
  return fetch(`${emulator.url}/v1beta/models/${init.model ?? MODEL}:generateContent`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-goog-api-key': 'k', ...init.headers },
    body: JSON.stringify({ contents: [{ parts: [{ text: prompt }] }], generationConfig: { imageConfig: { imageSize: '512' } } }),
    ...(init.signal ? { signal: init.signal } : {}),
  });
}

async function waitFor(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((resolve) => setImmediate(resolve));
}

describe('trigger phrases: exact wire answers', () => {
  it('[[emu:429]] → 429 RESOURCE_EXHAUSTED with QuotaFailure + RetryInfo, no Retry-After by default', async () => {
    const response = await generate('shoe [[emu:429]]');
    expect(response.status).toBe(429);
    expect(response.headers.get('retry-after')).toBeNull();
    const body = (await response.json()) as { error: { code: number; status: string; message: string; details: unknown[] } };
    expect(body.error.code).toBe(429);
    expect(body.error.status).toBe('RESOURCE_EXHAUSTED');
    expect(body.error.message).toMatch(/^You exceeded your current quota.*\nPlease retry in 30s\.$/s);
    expect(body.error.details).toEqual([
      {
        '@type': 'type.googleapis.com/google.rpc.Help',
        links: [{ description: 'Learn more about Gemini API quotas', url: 'https://ai.google.dev/gemini-api/docs/rate-limits' }],
      },
      {
        '@type': 'type.googleapis.com/google.rpc.QuotaFailure',
        violations: [
          {
            quotaMetric: 'generativelanguage.googleapis.com/generate_content_paid_tier_requests',
            quotaId: 'GenerateRequestsPerMinutePerProjectPerModel-PaidTier',
            quotaDimensions: { location: 'global', model: MODEL },
          },
        ],
      },
      { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '30s' },
    ]);
  });

  it('[[emu:429:retry=2s]] with retryAfterHeader → retryDelay "2s" and Retry-After: 2', async () => {
    const response = await generate('shoe [[EMU:429:retry=2s]]', { headers: { 'x-emulator-knobs': '{"retryAfterHeader":true}' } });
    expect(response.status).toBe(429);
    expect(response.headers.get('retry-after')).toBe('2');
    const body = (await response.json()) as { error: { message: string; details: { retryDelay?: string }[] } };
    expect(body.error.message.endsWith('Please retry in 2s.')).toBe(true);
    expect(body.error.details[2]).toEqual({ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '2s' });
  });

  it('[[emu:500]] → 500 INTERNAL; [[emu:503]] → 503 UNAVAILABLE high demand', async () => {
    const internal = await generate('shoe [[emu:500]]');
    expect(internal.status).toBe(500);
    expect(await internal.json()).toEqual({
      error: {
        code: 500,
        message: 'An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting',
        status: 'INTERNAL',
      },
    });
    const unavailable = await generate('shoe [[emu:503]]');
    expect(unavailable.status).toBe(503);
    expect(unavailable.headers.get('content-type')).toBe('application/json; charset=UTF-8');
    expect(await unavailable.json()).toEqual({
      error: {
        code: 503,
        message: 'This model is currently experiencing high demand. Spikes in demand are usually temporary. Please try again later.',
        status: 'UNAVAILABLE',
      },
    });
  });

  it('[[emu:text-only]] → 200 STOP with only a text part', async () => {
    const body = (await (await generate('shoe [[emu:text-only]]')).json()) as {
      candidates: { finishReason: string; content: { parts: Record<string, unknown>[] } }[];
      usageMetadata: { candidatesTokensDetails: unknown[] };
    };
    expect(body.candidates[0]?.finishReason).toBe('STOP');
    expect(body.candidates[0]?.content.parts).toHaveLength(1);
    expect(body.candidates[0]?.content.parts[0]?.['text']).toBe('Here is the image you asked for: shoe');
    expect(body.usageMetadata.candidatesTokensDetails).toEqual([{ modality: 'TEXT', tokenCount: 8 }]);
  });

  it.each([
    ['no-image', 'NO_IMAGE'],
    ['image-safety', 'IMAGE_SAFETY'],
    ['prohibited', 'IMAGE_PROHIBITED_CONTENT'],
  ])('[[emu:%s]] → 200 with finishReason %s and no content', async (trigger, finishReason) => {
    const response = await generate(`shoe [[emu:${trigger}]]`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { candidates: Record<string, unknown>[] };
    expect(body.candidates).toHaveLength(1);
    expect(body.candidates[0]?.['finishReason']).toBe(finishReason);
    expect(body.candidates[0]?.['content']).toBeUndefined();
    expect(body.candidates[0]?.['finishMessage']).toBeTypeOf('string');
  });

  it('[[emu:block]] → promptFeedback.blockReason SAFETY, no candidates; block=PROHIBITED_CONTENT', async () => {
    const blocked = (await (await generate('shoe [[emu:block]]')).json()) as Record<string, unknown>;
    expect(blocked['candidates']).toBeUndefined();
    expect(blocked['promptFeedback']).toEqual({ blockReason: 'SAFETY' });
    expect(blocked['usageMetadata']).toEqual({
      promptTokenCount: 2,
      totalTokenCount: 2,
      promptTokensDetails: [{ modality: 'TEXT', tokenCount: 2 }],
    });
    const prohibited = (await (await generate('shoe [[emu:block=prohibited_content]]')).json()) as Record<string, unknown>;
    expect(prohibited['promptFeedback']).toEqual({ blockReason: 'PROHIBITED_CONTENT' });
  });

  it('[[emu:bad-base64]] → image part whose data is not base64', async () => {
    const body = (await (await generate('shoe [[emu:bad-base64]]')).json()) as {
      candidates: { content: { parts: { inlineData?: { data: string } }[] } }[];
    };
    const data = body.candidates[0]?.content.parts.find((part) => part.inlineData)?.inlineData?.data ?? '';
    expect(data.startsWith('@@not-base64@@')).toBe(true);
    expect(/^[A-Za-z0-9+/]*={0,2}$/.test(data)).toBe(false);
  });

  it('[[emu:truncate]] → 200 with JSON headers and half a body that does not parse', async () => {
    const response = await generate('shoe [[emu:truncate]]');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json; charset=UTF-8');
    const text = await response.text();
    expect(text.startsWith('{"candidates":')).toBe(true);
    expect(() => JSON.parse(text)).toThrow(SyntaxError);
  });

  it('[[emu:malformed]] → 200 whose body is the JSON behind an XSSI prefix', async () => {
    const response = await generate('shoe [[emu:malformed]]');
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(text.startsWith(")]}'\n")).toBe(true);
    expect(() => JSON.parse(text)).toThrow(SyntaxError);
    expect(JSON.parse(text.slice(5))).toHaveProperty('candidates');
  });

  it('[[emu:reset]] → the connection is reset and fetch rejects', async () => {
    await expect(generate('shoe [[emu:reset]]')).rejects.toThrow(TypeError);
    await waitFor(() => emulator.requestLog.count({ fault: 'reset' }) === 1);
    expect(emulator.requestLog.list({ fault: 'reset' })[0]?.status).toBe(0);
  });

  it('[[emu:hang]] → no answer; the client can abort, and the log records status 0', async () => {
    const controller = new AbortController();
    const hash = promptHashOf('shoe [[emu:hang]] aborted');
    const pending = generate('shoe [[emu:hang]] aborted', { signal: controller.signal });
    // Abort once the emulator holds the request and has decided to hang it.
    await waitFor(() => emulator.requestLog.inFlight({ promptHash: hash, fault: 'hang' }).length === 1);
    controller.abort();
    await expect(pending).rejects.toThrow(/abort/i);
    await waitFor(() => emulator.requestLog.count({ promptHash: hash }) === 1);
    expect(emulator.requestLog.list({ promptHash: hash })[0]).toMatchObject({ status: 0, fault: 'hang' });
  });

  it('[[emu:latency=300ms]] delays the answer by at least that long', async () => {
    const started = performance.now();
    const response = await generate('shoe [[emu:latency=300ms]]');
    expect(response.status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(295);
  });

  it('[[emu:fail-first=2:503]] fails the first two requests with that prompt, then succeeds', async () => {
    const prompt = 'lamp [[emu:fail-first=2:503]]';
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 4; attempt += 1) statuses.push((await generate(prompt)).status);
    expect(statuses).toEqual([503, 503, 200, 200]);
    // Another prompt has its own counter.
    expect((await generate('vase [[emu:fail-first=1:429:retry=1s]]')).status).toBe(429);
    expect((await generate('vase [[emu:fail-first=1:429:retry=1s]]')).status).toBe(200);
    expect(emulator.requestLog.generationsFor(promptHashOf(prompt))).toBe(2);
  });

  it('a successful answer still decodes after a fault-free trigger-less request', async () => {
    const body = (await (await generate('plain request')).json()) as {
      candidates: { content: { parts: { inlineData?: { data: string } }[] } }[];
    };
    const data = body.candidates[0]?.content.parts.find((part) => part.inlineData)?.inlineData?.data ?? '';
    expect(PNG.sync.read(Buffer.from(data, 'base64')).width).toBe(512);
  });
});
