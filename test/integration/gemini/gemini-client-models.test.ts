import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BunchError } from '../../../src/errors/bunch-error.js';
import { startEmulator, type RunningEmulator } from '../../../src/emulator/start-emulator.js';
import { createGeminiClient, type GeminiClient } from '../../../src/gemini/gemini-client.js';

/**
 * getModel and the run-stopping classes end to end: the real client against the emulator, whose
 * outages are set with the `outage` knob or pinned per request by trigger phrases.
 */
const MODEL = 'gemini-3-pro-image-preview';
const API_KEY = 'emulator-models-key';
const GATEWAY_MESSAGE =
  'HTTP 403 from something in front of the API (not a Gemini error): 403 Forbidden Access to generativelanguage.googleapis.com is denied by the egress policy of this network. Reference: emulated-gateway';
const PRECONDITION_MESSAGE =
  'the API refused the project as called (region not supported, or billing not enabled): HTTP 400 FAILED_PRECONDITION: User location is not supported for the API use.';

let emulator: RunningEmulator;
let client: GeminiClient;

beforeAll(async () => {
  emulator = await startEmulator({ apiKey: API_KEY });
  client = createGeminiClient({ apiKey: API_KEY, baseUrl: emulator.url });
});
afterAll(async () => {
  await emulator?.close();
});
afterEach(() => {
  emulator.setKnobs({ outage: null });
});

async function failure(promise: Promise<unknown>): Promise<BunchError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(BunchError);
    return error as BunchError;
  }
  throw new Error('expected a BunchError');
}

function request(prompt: string): object {
  return { contents: [{ role: 'user', parts: [{ text: prompt }] }], generationConfig: { imageConfig: { imageSize: '1K' } } };
}

describe('GeminiClient.getModel', () => {
  it('returns the model with its supported methods, bare or prefixed name', async () => {
    const model = await client.getModel(MODEL, { timeoutMs: 10_000 });
    expect(model).toEqual({
      name: `models/${MODEL}`,
      displayName: 'Nano Banana Pro',
      supportedGenerationMethods: ['generateContent', 'countTokens', 'batchGenerateContent'],
      inputTokenLimit: 65_536,
      outputTokenLimit: 32_768,
    });
    expect((await client.getModel(`models/${MODEL}`, { timeoutMs: 10_000 })).name).toBe(`models/${MODEL}`);
    expect(emulator.requestLog.list({ route: 'getModel' }).every((entry) => entry.path === `/v1beta/models/${MODEL}`)).toBe(true);
  });

  it('an unknown model is E_MODEL_NOT_FOUND, not retryable', async () => {
    const error = await failure(client.getModel('gemini-0-retired', { timeoutMs: 10_000 }));
    expect(error.code).toBe('E_MODEL_NOT_FOUND');
    expect(error.status).toBe(404);
    expect(error.retryable).toBe(false);
    expect(error.message).toBe(
      'the model does not exist or is not available to this key: HTTP 404 NOT_FOUND: models/gemini-0-retired is not found for API version v1beta, or is not supported for GetModel. Call ListModels to see the list of available models and their supported methods.',
    );
  });

  it('a wrong key is E_AUTH (400 API_KEY_INVALID)', async () => {
    const wrong = createGeminiClient({ apiKey: 'not-the-key', baseUrl: emulator.url });
    const error = await failure(wrong.getModel(MODEL, { timeoutMs: 10_000 }));
    expect(error.code).toBe('E_AUTH');
    expect(error.status).toBe(400);
    expect(error.message).toBe(
      'the API refused the key or its permission: HTTP 400 INVALID_ARGUMENT: API key not valid. Please pass a valid API key.',
    );
  });

  it('a precondition outage is E_PRECONDITION', async () => {
    emulator.setKnobs({ outage: 'precondition' });
    const error = await failure(client.getModel(MODEL, { timeoutMs: 10_000 }));
    expect(error.code).toBe('E_PRECONDITION');
    expect(error.retryable).toBe(false);
    expect(error.message).toBe(PRECONDITION_MESSAGE);
  });

  it('a gateway outage is E_GATEWAY_BLOCKED, with the page as text', async () => {
    emulator.setKnobs({ outage: 'gateway-403' });
    const error = await failure(client.getModel(MODEL, { timeoutMs: 10_000 }));
    expect(error.code).toBe('E_GATEWAY_BLOCKED');
    expect(error.status).toBe(403);
    expect(error.message).toBe(GATEWAY_MESSAGE);
  });

  it('stops when the caller cancels', async () => {
    const error = await failure(client.getModel(MODEL, { timeoutMs: 10_000, signal: AbortSignal.abort() }));
    expect(error.code).toBe('E_CANCELLED');
  });
});

describe('generateContent: the run-stopping classes', () => {
  it('[[emu:precondition]] is E_PRECONDITION', async () => {
    const error = await failure(client.generateContent(MODEL, request('teapot [[emu:precondition]]'), { timeoutMs: 10_000 }));
    expect(error.code).toBe('E_PRECONDITION');
    expect(error.message).toBe(PRECONDITION_MESSAGE);
  });

  it('[[emu:gateway-403]] is E_GATEWAY_BLOCKED, retryable', async () => {
    const error = await failure(client.generateContent(MODEL, request('teapot [[emu:gateway-403]]'), { timeoutMs: 10_000 }));
    expect(error.code).toBe('E_GATEWAY_BLOCKED');
    expect(error.retryable).toBe(true);
    expect(error.message).toBe(GATEWAY_MESSAGE);
  });
});
