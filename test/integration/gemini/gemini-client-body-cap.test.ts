import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BunchError } from '../../../src/errors/bunch-error.js';
import { startEmulator, type RunningEmulator } from '../../../src/emulator/start-emulator.js';
import { createGeminiClient } from '../../../src/gemini/gemini-client.js';

/**
 * `maxResponseBytes`: a body over the cap is refused by its Content-Length (the emulator's normal
 * image answer) or by counting while it streams (a chunked answer from a bare server), and the
 * connection is dropped instead of reading the rest.
 */
const MODEL = 'gemini-3.1-flash-image-preview';
const API_KEY = 'body-cap-key';

let emulator: RunningEmulator;
const servers: Server[] = [];

beforeAll(async () => {
  emulator = await startEmulator({ apiKey: API_KEY });
});
afterAll(async () => {
  await emulator?.close();
});
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
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

const request = {
  contents: [{ role: 'user', parts: [{ text: 'A teapot on white marble' }] }],
  generationConfig: { responseModalities: ['TEXT', 'IMAGE'], imageConfig: { aspectRatio: '1:1', imageSize: '512' } },
};

describe('maxResponseBytes', () => {
  it('the emulator\'s image answer over a 1 KB cap is E_RESPONSE_TOO_LARGE, by its Content-Length', async () => {
    const capped = createGeminiClient({ apiKey: API_KEY, baseUrl: emulator.url, maxResponseBytes: 1024 });
    const error = await failure(capped.generateContent(MODEL, request, { timeoutMs: 10_000 }));
    expect(error.code).toBe('E_RESPONSE_TOO_LARGE');
    expect(error.retryable).toBe(false);
    expect(error.message).toMatch(/^response body is larger than the cap of 1024 bytes \(maxResponseBytes\): Content-Length announces \d+ bytes$/);
    // The answer was paid for upstream; the cap is about our memory, not the call.
    expect(emulator.requestLog.count({ route: 'generateContent', status: 200 })).toBe(1);
  });

  it('the same answer passes with the default cap, and small answers pass a small cap', async () => {
    const normal = createGeminiClient({ apiKey: API_KEY, baseUrl: emulator.url });
    expect(normal.config.maxResponseBytes).toBe(64 * 1024 * 1024);
    expect((await normal.generateContent(MODEL, request, { timeoutMs: 10_000 })).response.images).toHaveLength(1);
    const capped = createGeminiClient({ apiKey: API_KEY, baseUrl: emulator.url, maxResponseBytes: 1024 });
    expect((await capped.getModel(MODEL, { timeoutMs: 10_000 })).name).toBe(`models/${MODEL}`);
  });

  it('a chunked body without Content-Length is counted and cut off at the cap', async () => {
    let written = 0;
    let closedEarly = false;
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"candidates":[{"content":{"parts":[{"text":"');
      const chunk = 'x'.repeat(16 * 1024);
      // Up to 64 MB, unless the client goes away first.
      const timer = setInterval(() => {
        if (res.destroyed || written >= 64 * 1024 * 1024) {
          clearInterval(timer);
          if (!res.destroyed) res.end('"}]}}]}');
          return;
        }
        res.write(chunk);
        written += chunk.length;
      }, 1);
      res.once('close', () => {
        closedEarly = written < 64 * 1024 * 1024;
        clearInterval(timer);
      });
    });
    servers.push(server);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    const capped = createGeminiClient({ apiKey: API_KEY, baseUrl: url, maxResponseBytes: 100 * 1024 });
    const error = await failure(capped.generateContent(MODEL, request, { timeoutMs: 10_000 }));
    expect(error.code).toBe('E_RESPONSE_TOO_LARGE');
    expect(error.message).toMatch(/^response body is larger than the cap of 102400 bytes \(maxResponseBytes\): stopped reading after \d+ bytes$/);
    await new Promise<void>((resolve) => {
      const poll = (): void => (closedEarly ? resolve() : void setTimeout(poll, 5));
      poll();
    });
    expect(written).toBeLessThan(8 * 1024 * 1024);
  });

  it('a cap that is not a positive whole number is E_CONFIG', () => {
    for (const maxResponseBytes of [0, -1, 1.5, Number.NaN]) {
      expect(() => createGeminiClient({ apiKey: API_KEY, maxResponseBytes })).toThrow(expect.objectContaining({ code: 'E_CONFIG' }));
    }
  });
});
