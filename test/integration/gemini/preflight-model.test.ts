import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BunchError } from '../../../src/errors/bunch-error.js';
import { startEmulator, type RunningEmulator } from '../../../src/emulator/start-emulator.js';
import { createGeminiClient } from '../../../src/gemini/gemini-client.js';
import { preflightModel } from '../../../src/lanes/preflight-model.js';
import { freePort } from '../../helpers/free-port.js';

/**
 * The model preflight over the wire: sure answers (emulator) block with one sentence naming the
 * model; flaky ones (a bare server answering 503, a closed port) are retried and then let through.
 */
const MODEL = 'gemini-3.1-flash-image-preview';
const API_KEY = 'preflight-key';

let emulator: RunningEmulator;
const servers: Server[] = [];

beforeAll(async () => {
  emulator = await startEmulator({ apiKey: API_KEY });
});
afterAll(async () => {
  await emulator?.close();
});
afterEach(async () => {
  emulator.setKnobs({ outage: null });
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
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

const client = () => createGeminiClient({ apiKey: API_KEY, baseUrl: emulator.url });
const fast = { retryDelayMs: 5, timeoutMs: 5_000 };

describe('preflightModel: what it is sure of blocks the run', () => {
  it('a known model passes with one call', async () => {
    const before = emulator.requestLog.count({ route: 'getModel' });
    await preflightModel({ client: client(), model: MODEL, lane: 'auto', ...fast });
    expect(emulator.requestLog.count({ route: 'getModel' }) - before).toBe(1);
  });

  it('an unknown model: E_MODEL_NOT_FOUND naming the model, after one call', async () => {
    const before = emulator.requestLog.count({ route: 'getModel' });
    const error = await failure(preflightModel({ client: client(), model: 'gemini-0-retired', lane: 'sync', ...fast }));
    expect(error.code).toBe('E_MODEL_NOT_FOUND');
    expect(error.status).toBe(404);
    expect(error.message).toBe(
      'model preflight for "gemini-0-retired": the model does not exist or is not available to this key: HTTP 404 NOT_FOUND: models/gemini-0-retired is not found for API version v1beta, or is not supported for GetModel. Call ListModels to see the list of available models and their supported methods.',
    );
    expect(emulator.requestLog.count({ route: 'getModel' }) - before).toBe(1);
  });

  it('a wrong key: E_AUTH', async () => {
    const wrong = createGeminiClient({ apiKey: 'not-the-key', baseUrl: emulator.url });
    const error = await failure(preflightModel({ client: wrong, model: MODEL, lane: 'sync', ...fast }));
    expect(error.code).toBe('E_AUTH');
    expect(error.message).toBe(
      `model preflight for "${MODEL}": the API refused the key or its permission: HTTP 400 INVALID_ARGUMENT: API key not valid. Please pass a valid API key.`,
    );
    expect(error.message).not.toContain('not-the-key');
  });

  it('a project the API will not serve: E_PRECONDITION', async () => {
    emulator.setKnobs({ outage: 'precondition' });
    const error = await failure(preflightModel({ client: client(), model: MODEL, lane: 'batch', ...fast }));
    expect(error.code).toBe('E_PRECONDITION');
    expect(error.message).toBe(
      `model preflight for "${MODEL}": the API refused the project as called (region not supported, or billing not enabled): HTTP 400 FAILED_PRECONDITION: User location is not supported for the API use.`,
    );
  });

  it('a gateway page: E_GATEWAY_BLOCKED, without retrying', async () => {
    emulator.setKnobs({ outage: 'gateway-403' });
    const before = emulator.requestLog.count({ route: 'getModel' });
    const error = await failure(preflightModel({ client: client(), model: MODEL, lane: 'sync', ...fast }));
    expect(error.code).toBe('E_GATEWAY_BLOCKED');
    expect(error.message).toBe(
      `model preflight for "${MODEL}": HTTP 403 from something in front of the API (not a Gemini error): 403 Forbidden Access to generativelanguage.googleapis.com is denied by the egress policy of this network. Reference: emulated-gateway`,
    );
    expect(emulator.requestLog.count({ route: 'getModel' }) - before).toBe(1);
  });

  it('a model without the method the lane calls: E_MODEL_NOT_FOUND', async () => {
    const url = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ name: `models/${MODEL}`, supportedGenerationMethods: ['generateContent', 'countTokens'] }));
    });
    const lister = createGeminiClient({ apiKey: API_KEY, baseUrl: url });
    await preflightModel({ client: lister, model: MODEL, lane: 'sync', ...fast });
    const error = await failure(preflightModel({ client: lister, model: MODEL, lane: 'batch', ...fast }));
    expect(error.code).toBe('E_MODEL_NOT_FOUND');
    expect(error.message).toBe(
      `model preflight for "${MODEL}": the model does not support batchGenerateContent, which the batch lane calls (it supports generateContent, countTokens)`,
    );
  });
});

describe('preflightModel: a flaky moment does not fail the run', () => {
  it('503 twice, then the model: passes on the third call, nothing reported', async () => {
    let calls = 0;
    const url = await serve((_req, res) => {
      calls += 1;
      if (calls <= 2) {
        res.writeHead(503, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { code: 503, message: 'high demand', status: 'UNAVAILABLE' } }));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ name: `models/${MODEL}`, supportedGenerationMethods: ['generateContent', 'batchGenerateContent'] }));
    });
    const skipped: string[] = [];
    await preflightModel({
      client: createGeminiClient({ apiKey: API_KEY, baseUrl: url }),
      model: MODEL,
      lane: 'auto',
      ...fast,
      onSkipped: (message) => skipped.push(message),
    });
    expect(calls).toBe(3);
    expect(skipped).toEqual([]);
  });

  it('503 every time: three calls, then one warning and the run goes ahead', async () => {
    let calls = 0;
    const url = await serve((_req, res) => {
      calls += 1;
      res.writeHead(503, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 503, message: 'high demand', status: 'UNAVAILABLE' } }));
    });
    const skipped: { message: string; code: string }[] = [];
    await preflightModel({
      client: createGeminiClient({ apiKey: API_KEY, baseUrl: url }),
      model: MODEL,
      lane: 'sync',
      ...fast,
      onSkipped: (message, error) => skipped.push({ message, code: error.code }),
    });
    expect(calls).toBe(3);
    expect(skipped).toEqual([
      {
        code: 'E_UPSTREAM',
        message: `model preflight for "${MODEL}" could not be completed after 3 call(s) (E_UPSTREAM: HTTP 503 UNAVAILABLE: high demand); starting the run anyway`,
      },
    ]);
  });

  it('nothing listening: E_NETWORK is reported, not thrown', async () => {
    const port = await freePort();
    const skipped: string[] = [];
    await preflightModel({
      client: createGeminiClient({ apiKey: API_KEY, baseUrl: `http://127.0.0.1:${port}` }),
      model: MODEL,
      lane: 'sync',
      attempts: 2,
      ...fast,
      onSkipped: (_message, error) => skipped.push(error.code),
    });
    expect(skipped).toEqual(['E_NETWORK']);
  });
});
