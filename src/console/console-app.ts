import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import express, { type Express } from 'express';
import type { Logger } from 'pino';
import { BunchError } from '../errors/bunch-error.js';
import { galleryKeys } from '../gallery/gallery-keys.js';
import { cancelRun } from '../lanes/cancel-run.js';
import { RETRY_ANSWER_WITHIN_MS, retryFromConsole } from './console-retry.js';
import type { RunQueues } from '../lanes/run-queues.js';
import { publicRunMeta } from '../runs/public-run-meta.js';
import type { RunStore } from '../runs/run-store.js';
import { listSchedules, type ScheduleInfo } from '../schedules/schedule-queue.js';
import { assertStorableKey } from '../storage/assert-storable-key.js';
import type { ObjectStore } from '../storage/object-store.js';
import { consoleErrorHandler } from './console-error-handler.js';
import { answerLateWith, consoleAnswerBound, respondWithin } from './respond-within.js';
import { COOKIE, loopbackNamesOnly, requireToken, sameOriginChanges, tokenMatches } from './console-auth.js';
import { consoleRegistry } from './console-metrics.js';
import { escapeHtml, loginPage, runPage, runsPage } from './console-pages.js';
import type { ThroughputSource } from './throughput-source.js';
import type { Queue } from 'bullmq';

/**
 * The operator console as an Express app: the run list and run pages (console-pages.ts),
 * bull-board on /queues for the generate, finalize, batch and schedule queues, the runs'
 * galleries and images read from their output stores, `/metrics`, and cancel and retry buttons
 * that call the code `bunch cancel` and `bunch retry` call. With a token every request needs it
 * (console-auth.ts).
 */
export interface ConsoleDeps {
  runs: RunStore;
  queues: RunQueues;
  scheduleQueue: Queue;
  openStore(url: string): ObjectStore;
  throughput: ThroughputSource;
  logger: Logger;
  /** Required when the console listens beyond loopback. */
  token?: string;
  /** The origin users reach the console at through a proxy that rewrites Host (BUNCH_CONSOLE_ORIGIN). */
  publicOrigin?: string;
  allowPrivateReferences?: boolean;
  /** How long the Retry button waits for the retry to be planned (console-retry.ts; default 3 s). */
  retryAnswerWithinMs?: number;
  /** Retries being planned (from the click on): the console's close waits for them. */
  planning?: Set<Promise<unknown>>;
  /** How long a request may wait for Redis or a store before it is answered 503 (consoleAnswerBound; default 10 s). */
  answerWithinMs?: number;
}

const FILE_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.webp': 'image/webp',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.txt': 'text/plain; charset=utf-8',
  '.json': 'application/json',
};

export function createConsoleApp(deps: ConsoleDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  app.use((_req, res, next) => {
    res.setHeader('x-content-type-options', 'nosniff');
    res.setHeader('referrer-policy', 'no-referrer');
    next();
  });
  app.use(respondWithin(consoleAnswerBound(deps.answerWithinMs, deps.retryAnswerWithinMs ?? RETRY_ANSWER_WITHIN_MS), deps.logger));
  app.use(loopbackNamesOnly(deps.token));
  app.use(express.urlencoded({ extended: false, limit: '16kb' }));
  app.use(sameOriginChanges(deps.publicOrigin));

  app.get('/login', (req, res) => {
    res.type('html').send(loginPage(safeNext(req.query['next']), false));
  });
  app.post('/login', (req, res) => {
    const body = req.body as { token?: string; next?: string };
    if (deps.token === undefined) return res.redirect(303, safeNext(body.next));
    if (!tokenMatches(body.token, deps.token)) return res.status(401).type('html').send(loginPage(safeNext(body.next), true));
    res.cookie(COOKIE, deps.token, { httpOnly: true, sameSite: 'strict', path: '/' });
    return res.redirect(303, safeNext(body.next));
  });
  app.use(requireToken(deps.token));

  const board = new ExpressAdapter();
  board.setBasePath('/queues');
  createBullBoard({
    // Read-only: emptying, cleaning or removing bunch's jobs by hand would leave their runs
    // short of their total for good (nothing puts a removed job back). Cancel and retry are the
    // console's own buttons.
    queues: [deps.queues.generate, deps.queues.batch, deps.queues.finalize, deps.queues.report, deps.scheduleQueue].map((queue) => new BullMQAdapter(queue, { readOnlyMode: true })),
    serverAdapter: board,
    options: { uiConfig: { boardTitle: 'bunch queues' } },
  });
  app.use('/queues', board.getRouter());

  const registry = consoleRegistry(deps.runs, { generate: deps.queues.generate, batch: deps.queues.batch, finalize: deps.queues.finalize, report: deps.queues.report });
  app.get('/metrics', async (_req, res) => {
    res.type(registry.contentType).send(await registry.metrics());
  });

  app.get('/', async (_req, res) => {
    const ids = await deps.runs.listRuns(50);
    const metas = (await Promise.all(ids.map((id) => deps.runs.getMeta(id)))).filter((meta) => meta !== undefined);
    const schedules: ScheduleInfo[] = await listSchedules(deps.scheduleQueue).catch(() => []);
    res.type('html').send(runsPage(metas, schedules));
  });

  // The same data as `bunch status --json`.
  app.get('/api/runs', async (_req, res) => {
    const ids = await deps.runs.listRuns(50);
    res.json((await Promise.all(ids.map((id) => deps.runs.getMeta(id)))).filter((meta) => meta !== undefined).map(publicRunMeta));
  });
  app.get('/api/runs/:id', async (req, res) => {
    const meta = await deps.runs.getMeta(req.params.id);
    if (!meta) return res.status(404).json({ error: { code: 'E_NOT_FOUND', message: `run ${req.params.id} is not known to this Redis` } });
    return res.json(publicRunMeta(meta));
  });

  app.get('/runs/:id', async (req, res) => {
    const meta = await deps.runs.getMeta(req.params.id);
    if (!meta) return res.status(404).type('html').send(`<p>run ${escapeHtml(req.params.id)} is not known to this Redis</p>`);
    const store = deps.openStore(meta.config.outputUrl);
    let hasGallery = false;
    try {
      hasGallery = (await store.head(galleryKeys(meta.config.runId).index)) !== undefined;
    } finally {
      await store.close();
    }
    const points = await deps.throughput.pointsFor(meta);
    const message = typeof req.query['message'] === 'string' ? req.query['message'] : undefined;
    return res.type('html').send(runPage(meta, points, { hasGallery, ...(message ? { message } : {}) }));
  });

  app.post('/runs/:id/cancel', async (req, res) => {
    const id = req.params.id;
    answerLateWith(res, `/runs/${encodeURIComponent(id)}`);
    if (!(await deps.runs.getMeta(id))) throw new BunchError('E_NOT_FOUND', `run ${id} is not known to this Redis`);
    const result = await cancelRun(deps.runs, deps.queues, id);
    deps.logger.info({ runId: id, ...result }, 'run cancelled from the console');
    const message = result.ended ? `The run has already ended (${result.ended}): nothing to cancel.` : 'Cancel requested: queued items are recorded cancelled, calls in flight finish.';
    res.redirect(303, `/runs/${encodeURIComponent(id)}?message=${encodeURIComponent(message)}`);
  });

  const retrying = new Set<string>();
  app.post('/runs/:id/retry', async (req, res) => {
    answerLateWith(res, `/runs/${encodeURIComponent(req.params.id)}`);
    res.redirect(303, await retryFromConsole({ ...deps, retrying }, req.params.id));
  });

  // A run's files under its output store, for its gallery: the gallery folder, and the images its
  // tiles link to (the gallery's relative links resolve here).
  app.get('/runs/:id/files/*key', async (req, res) => {
    const id = req.params.id;
    const key = ([] as string[]).concat(req.params.key as unknown as string[]).join('/');
    const meta = await deps.runs.getMeta(id);
    if (!meta) return res.status(404).type('text/plain').send('unknown run\n');
    const type = FILE_TYPES[path.extname(key).toLowerCase()];
    const inGallery = key.startsWith(`${galleryKeys(id).folder}/`);
    if (!type || (!inGallery && !/\.(png|jpe?g|webp)$/i.test(key))) return res.status(404).type('text/plain').send('not served\n');
    assertStorableKey(key);
    const store = deps.openStore(meta.config.outputUrl);
    try {
      // Streamed: a gallery of 4K images open in a few tabs would otherwise hold every image whole.
      const body = await store.getStream(key);
      // Answered 503 meanwhile (respond-within.ts): nobody reads this stream; let its file go.
      if (res.headersSent) {
        body?.destroy();
        return undefined;
      }
      if (!body) return res.status(404).type('text/plain').send('not found\n');
      res.type(type);
      // A store failing mid-way ends the response (the browser sees a broken image), not the process.
      await pipeline(body, res).catch((error: unknown) => {
        // The viewer going away mid-transfer is ordinary; the store failing is worth a line.
        if ((error as { code?: string }).code !== 'ERR_STREAM_PREMATURE_CLOSE') deps.logger.warn({ key, err: { message: (error as Error).message } }, 'console file transfer ended early');
      });
      return undefined;
    } finally {
      await store.close();
    }
  });

  app.use(consoleErrorHandler(deps.logger));
  return app;
}

/** Where to go after logging in: a path on this console only. */
function safeNext(value: unknown): string {
  return typeof value === 'string' && value.startsWith('/') && !value.startsWith('//') ? value : '/';
}

