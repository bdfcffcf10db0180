import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BunchError } from '../../../src/errors/bunch-error.js';
import { startEmulator, type RunningEmulator } from '../../../src/emulator/start-emulator.js';
import { classifyHttpError, classifyResponse } from '../../../src/gemini/classify-outcome.js';
import { createGeminiClient, type GeminiClient } from '../../../src/gemini/gemini-client.js';
import { findImageModel, outputPixels } from '../../../src/gemini/model-catalog.js';
import { decodeImage } from '../../../src/image/decode-image.js';

// A fake key in the shape of a real one (to prove redaction), assembled so secret scanners skip it.
const FAKE_WRONG_KEY = ['AIza', 'WrongKeyForTheEmulator0123456789'].join('');

/**
 * Every error class end to end: the real HTTP client against the emulator, whose faults are pinned
 * per request by trigger phrases in the prompt.
 */
const MODEL = 'gemini-3.1-flash-image-preview';
const API_KEY = 'emulator-test-key-e';

let emulator: RunningEmulator;
let client: GeminiClient;

beforeAll(async () => {
  emulator = await startEmulator({ apiKey: API_KEY });
  client = createGeminiClient({ apiKey: API_KEY, baseUrl: emulator.url });
});

afterAll(async () => {
  await emulator?.close();
});

function request(prompt: string, aspectRatio = '16:9'): object {
  return {
    contents: [{ role: 'user', parts: [{ text: prompt }] }],
    generationConfig: { responseModalities: ['TEXT', 'IMAGE'], imageConfig: { aspectRatio, imageSize: '1K' } },
  };
}

async function failure(promise: Promise<unknown>): Promise<BunchError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(BunchError);
    return error as BunchError;
  }
  throw new Error('expected a BunchError');
}

describe('gemini client against the emulator', () => {
  it('success: decodes the image at the size the model catalog promises', async () => {
    const result = await client.generateContent(MODEL, request('A teapot on white marble'), { timeoutMs: 10_000 });
    expect(result.httpStatus).toBe(200);
    expect(classifyResponse(result.response, { wantImage: true })).toBeUndefined();
    expect(result.response.images).toHaveLength(1);
    expect(result.response.finishReason).toBe('STOP');
    expect(result.response.text).toContain('A teapot on white marble');
    expect(result.response.usage.imageTokens).toBe(1120);
    expect(result.response.modelVersion).toBe(MODEL);

    const model = findImageModel(MODEL);
    if (!model) throw new Error('model missing from catalog');
    const expected = outputPixels(model, '16:9', '1K');
    const image = result.response.images[0];
    if (!image || !expected) throw new Error('no image');
    const decoded = decodeImage(image, expected);
    expect([decoded.width, decoded.height]).toEqual([1376, 768]);
    expect(decoded.mimeType).toBe('image/png');
    expect(decoded.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('hang: our deadline ends the call with E_TIMEOUT', async () => {
    const error = await failure(client.generateContent(MODEL, request('[[emu:hang]] teapot'), { timeoutMs: 150 }));
    expect(error.code).toBe('E_TIMEOUT');
    expect(error.retryable).toBe(true);
  });

  it('reset: E_NETWORK', async () => {
    const error = await failure(client.generateContent(MODEL, request('[[emu:reset]] teapot'), { timeoutMs: 10_000 }));
    expect(error.code).toBe('E_NETWORK');
    expect(error.retryable).toBe(true);
  });

  it('truncate: E_MALFORMED_RESPONSE', async () => {
    const error = await failure(client.generateContent(MODEL, request('[[emu:truncate]] teapot'), { timeoutMs: 10_000 }));
    expect(error.code).toBe('E_MALFORMED_RESPONSE');
    expect(error.retryable).toBe(true);
  });

  it('malformed (XSSI prefix): E_MALFORMED_RESPONSE', async () => {
    const error = await failure(client.generateContent(MODEL, request('[[emu:malformed]] teapot'), { timeoutMs: 10_000 }));
    expect(error.code).toBe('E_MALFORMED_RESPONSE');
  });

  it('429: E_RATE_LIMITED with retryAfterMs from RetryInfo', async () => {
    const error = await failure(client.generateContent(MODEL, request('[[emu:429:retry=2.5s]] teapot'), { timeoutMs: 10_000 }));
    expect(error.code).toBe('E_RATE_LIMITED');
    expect(error.retryable).toBe(true);
    expect(error.retryAfterMs).toBe(2500);
    expect(error.status).toBe(429);
    expect(error.message.startsWith('HTTP 429 RESOURCE_EXHAUSTED: You exceeded your current quota')).toBe(true);
  });

  it.each([
    ['500', 'E_UPSTREAM'],
    ['503', 'E_UPSTREAM'],
  ])('%s: %s, retryable', async (fault, code) => {
    const error = await failure(client.generateContent(MODEL, request(`[[emu:${fault}]] teapot`), { timeoutMs: 10_000 }));
    expect(error.code).toBe(code);
    expect(error.retryable).toBe(true);
    expect(error.status).toBe(Number(fault));
  });

  it('wrong key: 400 API_KEY_INVALID is E_AUTH, and the key is not echoed', async () => {
    const wrong = createGeminiClient({ apiKey: FAKE_WRONG_KEY, baseUrl: emulator.url });
    const error = await failure(wrong.generateContent(MODEL, request('teapot'), { timeoutMs: 10_000 }));
    expect(error.code).toBe('E_AUTH');
    expect(error.status).toBe(400);
    expect(error.retryable).toBe(false);
    expect(error.message).not.toContain(FAKE_WRONG_KEY);
  });

  it('missing key: 403 is E_AUTH', async () => {
    // The client refuses to exist without a key, so speak to the emulator directly.
    const response = await fetch(`${emulator.url}/v1beta/models/${MODEL}:generateContent`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(request('teapot')),
    });
    const error = classifyHttpError(response.status, await response.text(), response.headers);
    expect(response.status).toBe(403);
    expect(error.code).toBe('E_AUTH');
  });

  it('unknown field: E_BAD_REQUEST; unknown model: E_MODEL_NOT_FOUND; neither retryable', async () => {
    const bad = await failure(client.generateContent(MODEL, { ...request('teapot'), bogusField: 1 }, { timeoutMs: 10_000 }));
    expect(bad.code).toBe('E_BAD_REQUEST');
    expect(bad.retryable).toBe(false);
    const missing = await failure(client.generateContent('gemini-0-nonexistent', request('teapot'), { timeoutMs: 10_000 }));
    expect(missing.code).toBe('E_MODEL_NOT_FOUND');
    expect(missing.status).toBe(404);
    expect(missing.retryable).toBe(false);
  });

  it.each([
    ['image-safety', 'E_SAFETY_BLOCKED', 'IMAGE_SAFETY'],
    ['prohibited', 'E_SAFETY_BLOCKED', undefined],
    ['block', 'E_SAFETY_BLOCKED', 'SAFETY'],
    ['no-image', 'E_NO_IMAGE', 'NO_IMAGE'],
    ['text-only', 'E_NO_IMAGE', 'STOP'],
  ])('%s: HTTP 200 classified as %s', async (fault, code, reason) => {
    const result = await client.generateContent(MODEL, request(`[[emu:${fault}]] teapot`), { timeoutMs: 10_000 });
    expect(result.httpStatus).toBe(200);
    const error = classifyResponse(result.response, { wantImage: true });
    expect(error?.code).toBe(code);
    if (reason !== undefined) expect(error?.reason).toBe(reason);
  });

  it('block=PROHIBITED_CONTENT: the blockReason is kept', async () => {
    const result = await client.generateContent(MODEL, request('[[emu:block=prohibited_content]] teapot'), { timeoutMs: 10_000 });
    const error = classifyResponse(result.response, { wantImage: true });
    expect(error?.code).toBe('E_SAFETY_BLOCKED');
    expect(error?.reason).toBe('PROHIBITED_CONTENT');
    expect(error?.retryable).toBe(false);
  });

  it('bad-base64: decodeImage rejects it with E_BAD_IMAGE', async () => {
    const result = await client.generateContent(MODEL, request('[[emu:bad-base64]] teapot'), { timeoutMs: 10_000 });
    const image = result.response.images[0];
    if (!image) throw new Error('expected an image part');
    let caught: unknown;
    try {
      decodeImage(image);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(BunchError);
    expect((caught as BunchError).code).toBe('E_BAD_IMAGE');
  });
});
