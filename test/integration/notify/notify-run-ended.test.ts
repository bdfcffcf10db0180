import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RunSummary } from '../../../src/manifest/run-summary.js';
import { notifyRunEnded, type NotifyDeps } from '../../../src/notify/notify-run-ended.js';
import type { RunConfig } from '../../../src/runs/run-config.js';
import { capturedLogger, type CapturedLogger } from '../../helpers/captured-logger.js';

/**
 * The notifier against a real HTTP receiver on loopback (no Redis, no run): what it sends, how it
 * retries, and that every way a receiver can misbehave ends in one warning within a bounded time.
 */
const SECRET = 'whsec-unit-only-3f9a';
const SECRET_ENV = 'BUNCH_TEST_NOTIFY_SECRET';

interface Hit {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

const hits: Hit[] = [];
const sockets = new Set<Socket>();
let server: Server;
let origin: string;
const behaviours: Record<string, (response: ServerResponse) => void> = {
  '/ok': (response) => response.writeHead(204).end(),
  '/fail': (response) => response.writeHead(500).end('boom'),
  '/gone': (response) => response.writeHead(404).end('no such hook'),
  '/redirect': (response) => response.writeHead(302, { location: '/ok' }).end(),
  '/hang': () => undefined,
  '/stall-body': (response) => {
    response.writeHead(200, { 'content-length': '100' });
    response.write('partial');
  },
};

beforeAll(async () => {
  server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    request.on('end', () => {
      hits.push({ path: request.url ?? '', headers: request.headers, body });
      behaviours[request.url ?? '']?.(response);
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise((resolve) => server.close(resolve));
});

let log: CapturedLogger;
beforeEach(() => {
  hits.length = 0;
  log = capturedLogger('debug');
});

function config(url: string, webhook: Partial<{ attempts: number; timeoutMs: number }> = {}): RunConfig {
  return {
    runId: 'run-notify-1',
    jobName: 'nightly',
    jobFile: '/jobs/nightly.yaml',
    model: 'gemini-3.1-flash-image-preview',
    lane: 'sync',
    outputUrl: 'file:///tmp/out',
    wantImage: true,
    wantText: false,
    sync: { timeoutMs: 35_000, attempts: 3, backoff: { initialMs: 100, maxMs: 1000, jitter: 0 } },
    batch: { deadlineMs: 1, onUnfinished: 'sync', maxRequestsPerBatch: 1, maxConcurrentBatches: 1, pollIntervalMs: 1 },
    pricing: { usdPerImage: 0.04, batchDiscount: 0.5 },
    notify: { webhook: { url, secretEnv: SECRET_ENV, timeoutMs: webhook.timeoutMs ?? 2000, attempts: webhook.attempts ?? 3 } },
    maxFailedRatio: 0.05,
    createdAt: '2026-12-03T00:00:00.000Z',
  };
}

const summary: RunSummary = {
  schemaVersion: 1,
  runId: 'run-notify-1',
  jobName: 'nightly',
  model: 'gemini-3.1-flash-image-preview',
  status: 'succeeded',
  items: 2,
  counts: { succeeded: 2, failed: 0, skipped: 0, cancelled: 0 },
  rejectedRows: 0,
  lanes: { sync: 2 },
  errors: {},
  failedRatio: 0,
  maxFailedRatio: 0.05,
  tokens: { prompt: 10, output: 20 },
  costUsd: 0.08,
  costUpperBoundUsd: 0.08,
  startedAt: '2026-12-03T00:00:00.000Z',
  finishedAt: '2026-12-03T00:00:05.000Z',
  wallTimeMs: 5000,
  itemsPerSecond: 0.4,
  manifest: 'file:///tmp/out/runs/run-notify-1/manifest.jsonl',
};

function deps(overrides: Partial<NotifyDeps> = {}): NotifyDeps {
  return { logger: log.logger, env: { [SECRET_ENV]: SECRET }, allowPrivate: true, retryDelaysMs: [20], ...overrides };
}

function verified(hit: Hit): boolean {
  const timestamp = hit.headers['x-bunch-timestamp'] as string;
  return hit.headers['x-bunch-signature'] === `sha256=${createHmac('sha256', SECRET).update(`${timestamp}.${hit.body}`).digest('hex')}`;
}

/** Exactly one line at warn or above, and the secret in no line at all. */
function expectOneWarning(): Record<string, unknown> {
  const lines = log.lines();
  expect(JSON.stringify(lines)).not.toContain(SECRET);
  const warnings = lines.filter((line) => (line['level'] as number) >= 40);
  expect(warnings).toHaveLength(1);
  return warnings[0]!;
}

describe('notifyRunEnded', () => {
  it('POSTs the summary with a text line, signed over "<timestamp>.<body>", once', async () => {
    expect(await notifyRunEnded(config(`${origin}/ok`), summary, deps({ now: () => 1_800_000_000 }))).toBe('sent');
    expect(hits).toHaveLength(1);
    const [hit] = hits;
    expect(hit!.headers['content-type']).toBe('application/json');
    expect(hit!.headers['x-bunch-timestamp']).toBe('1800000000');
    expect(verified(hit!)).toBe(true);
    expect(JSON.parse(hit!.body)).toEqual({ ...summary, text: 'bunch: run run-notify-1 of nightly succeeded: 2 succeeded, 0 failed, 0 skipped, 0 cancelled; $0.08' });
    expect(log.lines().filter((line) => (line['level'] as number) >= 40)).toEqual([]);
    expect(log.lines('webhook delivered')).toHaveLength(1);
    expect(JSON.stringify(log.lines())).not.toContain(SECRET);
  });

  it('tries a receiver that answers 500 `attempts` times, each try freshly signed, then warns once', async () => {
    expect(await notifyRunEnded(config(`${origin}/fail`, { attempts: 3 }), summary, deps())).toBe('failed');
    expect(hits.map((hit) => hit.path)).toEqual(['/fail', '/fail', '/fail']);
    expect(hits.every(verified)).toBe(true);
    expect(expectOneWarning()).toMatchObject({ outcome: 'failed', attempts: 3, last: 'answered 500', webhook: origin });
  });

  it('does not retry an answer another try cannot change, and follows no redirect', async () => {
    expect(await notifyRunEnded(config(`${origin}/gone`), summary, deps())).toBe('failed');
    expect(expectOneWarning()).toMatchObject({ attempts: 1, last: 'answered 404' });
    log = capturedLogger('debug');
    expect(await notifyRunEnded(config(`${origin}/redirect`), summary, deps())).toBe('failed');
    expect(expectOneWarning()).toMatchObject({ attempts: 1, last: 'answered 302' });
    expect(hits.map((hit) => hit.path)).toEqual(['/gone', '/redirect']);
  });

  it('gives up on a receiver that never answers, or stalls mid-answer, within its timeouts', async () => {
    for (const path of ['/hang', '/stall-body']) {
      log = capturedLogger('debug');
      const started = Date.now();
      expect(await notifyRunEnded(config(`${origin}${path}`, { attempts: 2, timeoutMs: 300 }), summary, deps())).toBe('failed');
      expect(Date.now() - started).toBeLessThan(2000);
      expect(expectOneWarning()).toMatchObject({ attempts: 2, last: 'no complete answer within 300 ms' });
    }
    expect(hits.map((hit) => hit.path)).toEqual(['/hang', '/hang', '/stall-body', '/stall-body']);
  });

  it('refuses loopback by address and by name unless private addresses are allowed, without sending', async () => {
    const port = new URL(origin).port;
    for (const url of [`${origin}/ok`, `http://localhost:${port}/ok`, `http://[::ffff:127.0.0.1]:${port}/ok`]) {
      log = capturedLogger('debug');
      expect(await notifyRunEnded(config(url), summary, deps({ allowPrivate: false }))).toBe('refused');
      const warning = expectOneWarning();
      expect(warning).toMatchObject({ outcome: 'refused' });
      expect(warning['reason']).toMatch(/loopback.*refused by the address guard/);
    }
    expect(hits).toEqual([]);
  });

  it('sends nothing and says which variable is missing when the secret is not set on the worker', async () => {
    expect(await notifyRunEnded(config(`${origin}/ok`), summary, deps({ env: {} }))).toBe('no-secret');
    expect(expectOneWarning()).toMatchObject({ outcome: 'no-secret', secretEnv: SECRET_ENV });
    expect(hits).toEqual([]);
  });
});
