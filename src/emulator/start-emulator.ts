import { setMaxListeners } from 'node:events';
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseBatchKnobs } from './batch/batch-knobs.js';
import { closeFilesAndBatches, createBatchRoutes } from './batch/batch-routes.js';
import { authenticateGoogle } from './authenticate-google.js';
import { createClaudeRoutes } from './claude-routes.js';
import type { EmulatorContext } from './emulator-context.js';
import { loadEmulatorProfile, parseEmulatorProfile, type EmulatorProfile } from './emulator-profile.js';
import type { EmulatorServices } from './emulator-services.js';
import { fileStoreFor } from './files/file-store.js';
import { createFilesRoutes } from './files/files-routes.js';
import { createInputFileResolver } from './files/input-file-resolver.js';
import { createGenerateRoutes } from './generate-routes.js';
import { createModelRoutes } from './model-routes.js';
import { GenerationEngine } from './generation-engine.js';
import { GoogleApiError, sendGoogleError } from './google-error.js';
import { INSPECTION_ROUTE_PREFIX, createInspectionRoutes } from './inspection-routes.js';
import { DEFAULT_KNOBS, mergeKnobs, type EmulatorKnobs, type KnobsInput } from './knobs.js';
import { createOpenAiChatRoutes } from './openai-chat-routes.js';
import { createOpenAiRoutes } from './openai-routes.js';
import { RequestLog } from './request-log.js';
import type { Route } from './route.js';

/**
 * The Gemini API emulator: a node:http server speaking the generativelanguage.googleapis.com wire
 * format (generateContent, models.get/list, Files, Batch), plus OpenAI- and Claude-compatible image endpoints and
 * its own inspection endpoints. Every route is plain data (route.ts); this file only builds the
 * shared services and context, dispatches, logs, and shuts down cleanly (even with hung requests).
 */
export interface EmulatorOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** Key every request must carry; default `emulator-key`; null turns auth off. */
  apiKey?: string | null;
  /** A profile object, or the path of a JSON profile file (see emulator-profile.ts). */
  profile?: EmulatorProfile | string;
  /** Knobs applied over the profile. */
  knobs?: KnobsInput;
  /** Shortcut for knobs.timeScale. */
  timeScale?: number;
  /** Shortcut for knobs.realisticPayload. */
  realisticPayload?: boolean;
  /** Where uploads and batch results go; default a fresh temp dir, removed on close. */
  dataDir?: string;
  /** Entries the request log keeps (counters are kept forever). Default 10,000. */
  requestLogCapacity?: number;
  /** Clock, for tests. */
  now?: () => number;
}

export interface RunningEmulator {
  /** Base URL without trailing slash, e.g. `http://127.0.0.1:41234`; give it to SDKs as baseUrl. */
  readonly url: string;
  readonly port: number;
  readonly apiKey: string | null;
  readonly requestLog: RequestLog;
  /** The context the Files/Batch routes run on (exposed for tests). */
  readonly context: EmulatorContext;
  /** Current knobs. */
  knobs(): EmulatorKnobs;
  /** Merges partial knobs into the current ones (validated; throws on bad values). */
  setKnobs(partial: KnobsInput): void;
  /** Stops listening, drops every open connection (hung requests included), removes a temp dataDir. */
  close(): Promise<void>;
}

export async function startEmulator(options: EmulatorOptions = {}): Promise<RunningEmulator> {
  const profile =
    typeof options.profile === 'string' ? await loadEmulatorProfile(options.profile) : parseEmulatorProfile(options.profile ?? {});
  const { batch: batchProfile, ...profileKnobs } = profile;
  const shortcuts: KnobsInput = {
    ...(options.timeScale === undefined ? {} : { timeScale: options.timeScale }),
    ...(options.realisticPayload === undefined ? {} : { realisticPayload: options.realisticPayload }),
  };
  let knobs = mergeKnobs(DEFAULT_KNOBS, profileKnobs, options.knobs, shortcuts);

  const ownsDataDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'bunch-emulator-')));
  if (!ownsDataDir) await mkdir(dataDir, { recursive: true });

  const apiKey = options.apiKey === undefined ? 'emulator-key' : options.apiKey;
  const now = options.now ?? Date.now;
  const requestLog = new RequestLog(options.requestLogCapacity);
  const shutdown = new AbortController();
  // Every delayed or hanging answer listens on this one signal; hundreds in flight are normal.
  setMaxListeners(0, shutdown.signal);
  let baseUrl = '';

  const authenticate = (req: IncomingMessage, url: URL): void => authenticateGoogle(req, url, apiKey);
  const context: EmulatorContext = {
    baseUrl: () => baseUrl,
    authenticate,
    // Batch items run through the same engine (declared below; only called once serving).
    generate: async (model, request) => (await engine.run(model, request, { transport: false })).outcome,
    dataDir,
    now,
    batch: parseBatchKnobs(batchProfile),
  };
  // fileData URIs naming this emulator's files are read from the store the Files API writes.
  const inputFiles = createInputFileResolver(() => fileStoreFor(context), () => baseUrl);
  const engine = new GenerationEngine({ knobs: () => knobs, requestLog, now, inputFiles });
  const services: EmulatorServices = {
    engine,
    requestLog,
    apiKey,
    shutdown: shutdown.signal,
    knobs: () => knobs,
    setKnobs: (partial) => {
      knobs = mergeKnobs(knobs, partial);
    },
    authenticate,
  };
  const routes: Route[] = [
    ...createInspectionRoutes(services),
    ...createGenerateRoutes(services),
    ...createModelRoutes(services),
    ...createOpenAiRoutes(services),
    ...createOpenAiChatRoutes(services),
    ...createClaudeRoutes(services),
    ...createFilesRoutes(context),
    ...createBatchRoutes(context),
  ];

  const server = createServer((req, res) => {
    void dispatch(req, res);
  });
  server.keepAliveTimeout = 5_000;

  async function dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = now();
    const url = new URL(req.url ?? '/', baseUrl || 'http://localhost');
    const match = findRoute(routes, req.method ?? 'GET', url.pathname);
    const routeName = match?.route.name ?? 'unmatched';
    if (!routeName.startsWith(INSPECTION_ROUTE_PREFIX)) {
      requestLog.begin(req, { time: started, method: req.method ?? 'GET', path: url.pathname, route: routeName });
      res.once('close', () => requestLog.finish(req, res.headersSent ? res.statusCode : 0, now() - started));
    }
    if (!match) {
      sendGoogleError(res, new GoogleApiError(404, 'NOT_FOUND', `The requested URL ${url.pathname} was not found on this server.`));
      return;
    }
    try {
      await match.route.handle({ req, res, url, params: match.params });
    } catch (error) {
      if (res.headersSent || res.destroyed) return;
      if (error instanceof GoogleApiError) sendGoogleError(res, error);
      else sendGoogleError(res, new GoogleApiError(500, 'INTERNAL', 'An internal error has occurred.'));
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  baseUrl = `http://${host}:${address.port}`;

  let closing: Promise<void> | undefined;
  return {
    url: baseUrl,
    port: address.port,
    apiKey,
    requestLog,
    context,
    knobs: () => knobs,
    setKnobs: services.setKnobs,
    close: () => {
      closing ??= (async () => {
        shutdown.abort();
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        await closed;
        // Stop the batch engine's background loop and close open result files before the
        // data directory goes away.
        await closeFilesAndBatches(context);
        if (ownsDataDir) await rm(dataDir, { recursive: true, force: true });
      })();
      return closing;
    },
  };
}

function findRoute(routes: Route[], method: string, path: string): { route: Route; params: string[] } | undefined {
  for (const route of routes) {
    if (route.method !== method) continue;
    const match = route.pattern.exec(path);
    if (match) return { route, params: match.slice(1).map((value) => value ?? '') };
  }
  return undefined;
}
