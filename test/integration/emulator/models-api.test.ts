import { ApiError, GoogleGenAI } from '@google/genai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { GATEWAY_403_PAGE } from '../../../src/emulator/outage-answers.js';
import { startEmulator, type RunningEmulator } from '../../../src/emulator/start-emulator.js';
import { IMAGE_MODELS } from '../../../src/gemini/model-catalog.js';

/**
 * models.get / models.list on the wire and through @google/genai, and the two whole-project
 * failures (FAILED_PRECONDITION, a gateway's 403 page) as trigger phrases and as a standing outage.
 */
const KEY = 'models-key';
const MODEL = 'gemini-3.1-flash-image-preview';

let emulator: RunningEmulator;
let ai: GoogleGenAI;

beforeAll(async () => {
  emulator = await startEmulator({ apiKey: KEY });
  ai = new GoogleGenAI({ apiKey: KEY, httpOptions: { baseUrl: emulator.url } });
});
afterAll(async () => {
  await emulator.close();
});
afterEach(() => {
  emulator.setKnobs({ outage: null });
});

function get(path: string, headers: Record<string, string> = { 'x-goog-api-key': KEY }): Promise<Response> {
  return fetch(`${emulator.url}${path}`, { headers });
}

function generate(prompt: string): Promise<Response> {
  return fetch(`${emulator.url}/v1beta/models/${MODEL}:generateContent`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-goog-api-key': KEY },
    body: JSON.stringify({ contents: [{ parts: [{ text: prompt }] }], generationConfig: { imageConfig: { imageSize: '512' } } }),
  });
}

const PRECONDITION_BODY = {
  error: { code: 400, message: 'User location is not supported for the API use.', status: 'FAILED_PRECONDITION' },
};

describe('models.get on the wire', () => {
  it('serves the Model resource of every catalog model, on v1beta and v1', async () => {
    for (const info of Object.values(IMAGE_MODELS)) {
      for (const version of ['v1beta', 'v1']) {
        const response = await get(`/${version}/models/${info.id}`);
        expect(response.status).toBe(200);
        expect(response.headers.get('content-type')).toBe('application/json; charset=UTF-8');
        expect(await response.json()).toEqual({
          name: `models/${info.id}`,
          version: '2.0',
          displayName: info.displayName,
          description: `${info.displayName} image generation and editing model (emulated by bunch).`,
          inputTokenLimit: info.inputTokenLimit,
          outputTokenLimit: info.outputTokenLimit,
          supportedGenerationMethods: ['generateContent', 'countTokens', 'batchGenerateContent'],
          temperature: 1,
          topP: 0.95,
          topK: 64,
          maxTemperature: 2,
          thinking: info.thinking,
        });
      }
    }
    expect(emulator.requestLog.count({ route: 'getModel', status: 200 })).toBe(Object.keys(IMAGE_MODELS).length * 2);
  });

  it('an unknown model is the 404 NOT_FOUND envelope', async () => {
    const response = await get('/v1beta/models/gemini-0-retired');
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({
      error: {
        code: 404,
        message:
          'models/gemini-0-retired is not found for API version v1beta, or is not supported for GetModel. Call ListModels to see the list of available models and their supported methods.',
        status: 'NOT_FOUND',
      },
    });
  });

  it('batchGenerateContent on an unknown model is the same 404, naming the method', async () => {
    const response = await fetch(`${emulator.url}/v1beta/models/gemini-0-retired:batchGenerateContent`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-goog-api-key': KEY },
      body: JSON.stringify({ batch: { displayName: 'x', inputConfig: { requests: { requests: [{ request: { contents: [{ parts: [{ text: 'x' }] }] } }] } } } }),
    });
    expect(response.status).toBe(404);
    expect(((await response.json()) as { error: { message: string } }).error.message).toBe(
      'models/gemini-0-retired is not found for API version v1beta, or is not supported for batchGenerateContent. Call ListModels to see the list of available models and their supported methods.',
    );
  });

  it('checks the key like generateContent: wrong key 400 API_KEY_INVALID, no key 403', async () => {
    const wrong = await get(`/v1beta/models/${MODEL}`, { 'x-goog-api-key': 'not-the-key' });
    const wrongGenerate = await fetch(`${emulator.url}/v1beta/models/${MODEL}:generateContent`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-goog-api-key': 'not-the-key' },
      body: '{}',
    });
    expect(wrong.status).toBe(400);
    const body = (await wrong.json()) as { error: { status: string; details: { reason?: string }[] } };
    expect(body).toEqual(await wrongGenerate.json());
    expect(body.error.details[0]?.reason).toBe('API_KEY_INVALID');

    const missing = await get(`/v1beta/models/${MODEL}`, {});
    expect(missing.status).toBe(403);
    expect(((await missing.json()) as { error: { status: string } }).error.status).toBe('PERMISSION_DENIED');
    // The key may also come as ?key=.
    expect((await get(`/v1beta/models/${MODEL}?key=${KEY}`, {})).status).toBe(200);
  });

  it('models.list pages with pageSize and pageToken', async () => {
    const all = (await (await get('/v1beta/models')).json()) as { models: { name: string }[]; nextPageToken?: string };
    expect(all.models.map((model) => model.name)).toEqual(Object.keys(IMAGE_MODELS).map((id) => `models/${id}`));
    expect(all.nextPageToken).toBeUndefined();

    const first = (await (await get('/v1beta/models?pageSize=2')).json()) as { models: { name: string }[]; nextPageToken?: string };
    expect(first.models).toHaveLength(2);
    expect(first.nextPageToken).toBeTypeOf('string');
    const second = (await (await get(`/v1/models?pageSize=2&pageToken=${first.nextPageToken ?? ''}`)).json()) as {
      models: { name: string }[];
      nextPageToken?: string;
    };
    expect([...first.models, ...second.models].map((model) => model.name)).toEqual(all.models.map((model) => model.name));
    expect(second.nextPageToken).toBeUndefined();
    expect((await get('/v1beta/models?pageSize=-1')).status).toBe(400);
  });
});

describe('models through @google/genai', () => {
  it('ai.models.get reads the Model resource', async () => {
    const model = await ai.models.get({ model: MODEL });
    expect(model.name).toBe(`models/${MODEL}`);
    expect(model.displayName).toBe('Nano Banana 2');
    expect(model.supportedActions).toEqual(['generateContent', 'countTokens', 'batchGenerateContent']);
    expect(model.inputTokenLimit).toBe(131_072);
    expect(model.outputTokenLimit).toBe(32_768);
    expect(model.thinking).toBe(true);
    // The SDK accepts the prefixed form too.
    expect((await ai.models.get({ model: 'models/gemini-2.5-flash-image' })).displayName).toBe('Nano Banana');
  });

  it('ai.models.get of an unknown model is an ApiError 404', async () => {
    let caught: unknown;
    try {
      await ai.models.get({ model: 'gemini-0-retired' });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ApiError);
    expect((caught as ApiError).status).toBe(404);
    expect(JSON.parse((caught as ApiError).message)).toMatchObject({ error: { code: 404, status: 'NOT_FOUND' } });
  });

  it('ai.models.list walks every page', async () => {
    const names: string[] = [];
    const pager = await ai.models.list({ config: { pageSize: 1 } });
    for await (const model of pager) names.push(model.name ?? '');
    expect(names).toEqual(Object.keys(IMAGE_MODELS).map((id) => `models/${id}`));
  });
});

describe('whole-project failures', () => {
  it('[[emu:precondition]] → 400 FAILED_PRECONDITION "User location is not supported"', async () => {
    const response = await generate('shoe [[emu:precondition]]');
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toBe('application/json; charset=UTF-8');
    expect(await response.json()).toEqual(PRECONDITION_BODY);
  });

  it('[[emu:gateway-403]] → 403 with an HTML page, not JSON', async () => {
    const response = await generate('shoe [[emu:gateway-403]]');
    expect(response.status).toBe(403);
    expect(response.headers.get('content-type')).toBe('text/html; charset=UTF-8');
    expect(await response.text()).toBe(GATEWAY_403_PAGE);
    expect(emulator.requestLog.count({ fault: 'gateway-403', status: 403 })).toBeGreaterThanOrEqual(1);
  });

  it('outage "precondition": models.get and generateContent both answer FAILED_PRECONDITION, after the key check', async () => {
    emulator.setKnobs({ outage: 'precondition' });
    const model = await get(`/v1beta/models/${MODEL}`);
    expect(model.status).toBe(400);
    expect(await model.json()).toEqual(PRECONDITION_BODY);
    expect(await (await generate('an ordinary prompt')).json()).toEqual(PRECONDITION_BODY);
    const wrongKey = await get(`/v1beta/models/${MODEL}`, { 'x-goog-api-key': 'not-the-key' });
    expect(((await wrongKey.json()) as { error: { status: string } }).error.status).toBe('INVALID_ARGUMENT');
  });

  it('outage "gateway-403": every call gets the page, before the key is checked', async () => {
    emulator.setKnobs({ outage: 'gateway-403' });
    for (const response of [
      await get(`/v1beta/models/${MODEL}`),
      await get('/v1beta/models'),
      await get(`/v1beta/models/${MODEL}`, { 'x-goog-api-key': 'not-the-key' }),
      await generate('an ordinary prompt'),
    ]) {
      expect(response.status).toBe(403);
      expect(await response.text()).toBe(GATEWAY_403_PAGE);
    }
  });

  it('an outage can be set for one request with the x-emulator-knobs header', async () => {
    const blocked = await get(`/v1beta/models/${MODEL}`, { 'x-goog-api-key': KEY, 'x-emulator-knobs': '{"outage":"gateway-403"}' });
    expect(blocked.status).toBe(403);
    expect(await blocked.text()).toBe(GATEWAY_403_PAGE);
    expect((await get(`/v1beta/models/${MODEL}`)).status).toBe(200);
  });

  it('inside a batch, a precondition outage fails the item; a gateway page has no meaning there', async () => {
    const request = { contents: [{ parts: [{ text: 'shoe' }] }], generationConfig: { imageConfig: { imageSize: '512' } } };
    emulator.setKnobs({ outage: 'precondition' });
    const refused = await emulator.context.generate(MODEL, request);
    expect(refused.ok).toBe(false);
    if (!refused.ok) expect(refused.error.toRpcStatus()).toEqual({ code: 9, message: 'User location is not supported for the API use.' });
    emulator.setKnobs({ outage: 'gateway-403' });
    expect((await emulator.context.generate(MODEL, request)).ok).toBe(true);
  });
});
