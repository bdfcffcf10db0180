import { createServer, type Server } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import type { EmulatorContext, GenerateOutcome } from '../../../src/emulator/emulator-context.js';
import { GoogleApiError, sendGoogleError } from '../../../src/emulator/google-error.js';
import type { Route } from '../../../src/emulator/route.js';
import { parseBatchKnobs } from '../../../src/emulator/batch/batch-knobs.js';
import { closeFilesAndBatches, createBatchRoutes } from '../../../src/emulator/batch/batch-routes.js';
import { createFilesRoutes } from '../../../src/emulator/files/files-routes.js';

/**
 * A minimal node:http server that mounts only the Files and Batch routes over a real data
 * directory, with a stand-in `generate` (a small real PNG per request; `[[emu:500]]` /
 * `[[emu:503]]` in the prompt give per-item errors, as the core's trigger phrases do). It lets these routes be tested on the
 * wire on their own, independent of the emulator core.
 */
export const TEST_API_KEY = 'test-key-files-batch';

export interface HarnessOptions {
  batch?: unknown;
  /** Replaces the stand-in generate (e.g. to return large payloads). */
  generate?: (model: string, request: unknown) => Promise<GenerateOutcome>;
}

export interface Harness {
  url: string;
  context: EmulatorContext;
  /** Moves the emulator's clock forward (file expiry, batch timing). */
  advanceClock(ms: number): void;
  generateCalls(): number;
  close(): Promise<void>;
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const dataDir = await mkdtemp(join(tmpdir(), 'bunch-files-batch-'));
  let offsetMs = 0;
  let calls = 0;
  let baseUrl = '';
  const generate = options.generate ?? standInGenerate;
  const context: EmulatorContext = {
    baseUrl: () => baseUrl,
    authenticate(req, url) {
      const key = req.headers['x-goog-api-key'] ?? url.searchParams.get('key');
      if (key === undefined || key === null) {
        throw new GoogleApiError(403, 'PERMISSION_DENIED', "Method doesn't allow unregistered callers.");
      }
      if (key !== TEST_API_KEY) throw new GoogleApiError(400, 'INVALID_ARGUMENT', 'API key not valid. Please pass a valid API key.');
    },
    generate: async (model, request) => {
      calls += 1;
      return generate(model, request);
    },
    dataDir,
    now: () => Date.now() + offsetMs,
    batch: parseBatchKnobs(options.batch),
  };
  const routes: Route[] = [...createFilesRoutes(context), ...createBatchRoutes(context)];
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', baseUrl);
    for (const route of routes) {
      const match = route.method === req.method ? route.pattern.exec(url.pathname) : null;
      if (match) {
        void route.handle({ req, res, url, params: match.slice(1) });
        return;
      }
    }
    req.resume();
    sendGoogleError(res, new GoogleApiError(404, 'NOT_FOUND', `No route for ${req.method} ${url.pathname}`));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  baseUrl = `http://127.0.0.1:${address.port}`;
  return {
    url: baseUrl,
    context,
    advanceClock: (ms) => {
      offsetMs += ms;
    },
    generateCalls: () => calls,
    close: async () => {
      await closeFilesAndBatches(context);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

let cachedPng: string | undefined;

/** A 16x16 PNG, base64: small, but a real image the tests can decode. */
export function tinyPngBase64(): string {
  if (cachedPng === undefined) {
    const png = new PNG({ width: 16, height: 16 });
    png.data.fill(200);
    cachedPng = PNG.sync.write(png).toString('base64');
  }
  return cachedPng;
}

async function standInGenerate(model: string, request: unknown): Promise<GenerateOutcome> {
  const text = JSON.stringify(request);
  if (text.includes('[[emu:500]]')) return { ok: false, error: new GoogleApiError(500, 'INTERNAL', 'Internal error encountered.') };
  if (text.includes('[[emu:503]]')) return { ok: false, error: new GoogleApiError(503, 'UNAVAILABLE', 'The model is overloaded.') };
  return {
    ok: true,
    response: {
      candidates: [
        {
          content: { role: 'model', parts: [{ inlineData: { mimeType: 'image/png', data: tinyPngBase64() } }] },
          finishReason: 'STOP',
          index: 0,
        },
      ],
      usageMetadata: { promptTokenCount: 10, candidatesTokenCount: 1120, totalTokenCount: 1130 },
      modelVersion: model,
    },
  };
}
