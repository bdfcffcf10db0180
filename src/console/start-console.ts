import type { Server } from 'node:http';
import type { Logger } from 'pino';
import type { Redis } from 'ioredis';
import type { RunQueues } from '../lanes/run-queues.js';
import type { RunStore } from '../runs/run-store.js';
import { BunchError } from '../errors/bunch-error.js';
import { openScheduleQueue } from '../schedules/schedule-queue.js';
import type { ObjectStore } from '../storage/object-store.js';
import { isLoopback } from './console-auth.js';
import { createConsoleApp } from './console-app.js';
import { RETRY_ANSWER_WITHIN_MS } from './console-retry.js';
import { consoleAnswerBound } from './respond-within.js';
import { ThroughputSource } from './throughput-source.js';

export interface ConsoleOptions {
  /** Redis handles of the caller's control plane (the caller closes them after close()). */
  plane: { redis: Redis; runs: RunStore; queues: RunQueues };
  prefix: string;
  port: number;
  host: string;
  /** BUNCH_CONSOLE_TOKEN: required when `host` is not a loopback address. */
  token?: string | undefined;
  /**
   * BUNCH_CONSOLE_ORIGIN: the address users reach the console at through a proxy
   * (`https://console.example.com`), accepted as the Origin of forms beside the Host header's.
   */
  publicOrigin?: string | undefined;
  openStore(url: string): ObjectStore;
  logger: Logger;
  allowPrivateReferences?: boolean;
  /** How often running runs are sampled for their throughput chart (default 5 s). */
  sampleEveryMs?: number;
  /** How long the Retry button waits for planning before it answers with the new run's page (default 3 s). */
  retryAnswerWithinMs?: number;
  /**
   * How long close() waits for retries still being planned (default 60 s). One still planning
   * then is left to end with this process: the worker fleet ends its run with what it had handed
   * out once its planner's lease lapses (adopt-orphaned-runs.ts).
   */
  closeWaitMs?: number;
  /** How long a request may wait for Redis or an output store before it is answered 503 (default 10 s). */
  answerWithinMs?: number;
  /**
   * How long a connection may make no progress before it is dropped (default 60 s): a browser
   * that stops reading a file mid-way would otherwise hold the file open until the console stops.
   */
  idleConnectionMs?: number;
}

/** The default of idleConnectionMs. */
export const CONSOLE_IDLE_CONNECTION_MS = 60_000;

/** close()'s default wait for retries still being planned. */
export const CONSOLE_CLOSE_WAIT_MS = 60_000;

export interface RunningConsole {
  url: string;
  close(): Promise<void>;
}

/** `bunch serve`: the console on host:port, until close(). */
export async function startConsole(options: ConsoleOptions): Promise<RunningConsole> {
  const token = options.token === '' ? undefined : options.token;
  if (!isLoopback(options.host) && token === undefined) {
    throw new BunchError('E_CONFIG', `the console listens on ${options.host}, beyond this machine: set BUNCH_CONSOLE_TOKEN (every request must then carry it), or listen on 127.0.0.1`);
  }
  if (token !== undefined && token.length < 16) throw new BunchError('E_CONFIG', 'BUNCH_CONSOLE_TOKEN must be at least 16 characters long');
  const publicOrigin = options.publicOrigin === '' || options.publicOrigin === undefined ? undefined : parsePublicOrigin(options.publicOrigin);
  const { plane } = options;
  const scheduleQueue = openScheduleQueue(plane.redis, options.prefix);
  const throughput = new ThroughputSource(plane.runs, options.openStore);
  throughput.start(options.sampleEveryMs);
  // Retries still being planned after their button answered: closing waits for them, or their
  // runs would be left half planned (a planner that died).
  const planning = new Set<Promise<unknown>>();
  const app = createConsoleApp({
    runs: plane.runs,
    queues: plane.queues,
    scheduleQueue,
    openStore: options.openStore,
    throughput,
    logger: options.logger,
    ...(token !== undefined ? { token } : {}),
    ...(publicOrigin !== undefined ? { publicOrigin } : {}),
    allowPrivateReferences: options.allowPrivateReferences ?? false,
    ...(options.retryAnswerWithinMs !== undefined ? { retryAnswerWithinMs: options.retryAnswerWithinMs } : {}),
    ...(options.answerWithinMs !== undefined ? { answerWithinMs: options.answerWithinMs } : {}),
    planning,
  });
  const closeWaitMs = options.closeWaitMs ?? CONSOLE_CLOSE_WAIT_MS;
  const answerBound = consoleAnswerBound(options.answerWithinMs, options.retryAnswerWithinMs ?? RETRY_ANSWER_WITHIN_MS);
  let server: Server;
  try {
    server = await new Promise<Server>((resolve, reject) => {
      const listening = app.listen(options.port, options.host, (error?: Error) => (error ? reject(error) : resolve(listening)));
      listening.once('error', reject);
    });
  } catch (error) {
    throughput.stop();
    await scheduleQueue.close();
    throw new BunchError('E_CONFIG', `the console cannot listen on ${options.host}:${options.port}: ${(error as Error).message}`, { cause: error });
  }
  // Node's HTTP server drops no connection for idleness by default: a file sent to a reader that
  // stopped reading waited for ever with its file open. No socket activity this long destroys it.
  server.setTimeout(options.idleConnectionMs ?? CONSOLE_IDLE_CONNECTION_MS);
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    url: `http://${host}:${port}`,
    async close() {
      throughput.stop();
      // Requests in flight (a Retry click, a page waiting on Redis) get their answer: each answers
      // within the console's bound, so waiting that long (and a second) ends them all, unless the
      // close wait is shorter. Downloads still going then are cut.
      // A connection whose request was answered is closed as soon as it is idle, not kept alive.
      let cut: NodeJS.Timeout | undefined;
      let idle: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        idle = setInterval(() => server.closeIdleConnections(), 50);
        cut = setTimeout(() => server.closeAllConnections(), Math.min(answerBound + 1000, closeWaitMs));
      }).finally(() => {
        clearTimeout(cut);
        clearInterval(idle);
      });
      if (planning.size > 0) {
        let timer: NodeJS.Timeout | undefined;
        const waited = await Promise.race([
          Promise.allSettled([...planning]).then(() => 'planned' as const),
          new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), closeWaitMs))),
        ]).finally(() => clearTimeout(timer));
        if (waited === 'late') {
          options.logger.warn({ plannings: planning.size }, 'stopping with retries still being planned: their runs are ended by the worker fleet once their planner\'s lease lapses');
        }
      }
      await scheduleQueue.close();
    },
  };
}

/** `https://console.example.com` as browsers send it in Origin: scheme, host and port, nothing else. */
function parsePublicOrigin(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new BunchError('E_CONFIG', `BUNCH_CONSOLE_ORIGIN "${text.slice(0, 100)}" is not a URL (e.g. https://console.example.com)`);
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.pathname !== '/' || url.search !== '' || url.username !== '') {
    throw new BunchError('E_CONFIG', `BUNCH_CONSOLE_ORIGIN "${text.slice(0, 100)}" must be an origin: http(s)://host[:port], no path`);
  }
  return url.origin;
}
