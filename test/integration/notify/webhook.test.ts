import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { capturedLogger, type CapturedLogger } from '../../helpers/captured-logger.js';
import { productCsv, startBunchStack, type BunchStack } from '../../helpers/bunch-stack.js';
import { waitFor } from '../../helpers/spawn-worker.js';

/**
 * A job's `notify.webhook` through whole runs (Redis, emulator, in-process workers, the finalize
 * worker), with a node:http receiver on loopback. Tests wait on the notifier's own log lines (one
 * per outcome), never on time.
 */
interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

const SECRET = 'whsec-e2e-only-7c21d';
const SECRET_ENV = 'BUNCH_TEST_WEBHOOK_SECRET';
let server: Server;
let port: number;
let answer = 200;
const received: Received[] = [];
beforeAll(async () => {
  // In-process workers read the secret from this process's environment, as a worker would from its own.
  process.env[SECRET_ENV] = SECRET;
  server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    request.on('end', () => {
      received.push({ headers: request.headers, body });
      response.writeHead(answer).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as { port: number }).port;
});
afterAll(async () => {
  delete process.env[SECRET_ENV];
  await new Promise((resolve) => server.close(resolve));
});

let stack: BunchStack | undefined;
let log: CapturedLogger;
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
  received.length = 0;
  answer = 200;
});

async function startStack(allowPrivateWebhooks: boolean): Promise<BunchStack> {
  stack = await startBunchStack();
  log = capturedLogger('info');
  await stack.startWorkers({ allowPrivateWebhooks, logger: log.logger });
  return stack;
}

const notify = (attempts = 3) => ({ webhook: { url: `http://127.0.0.1:${port}/hooks/bunch`, secretEnv: SECRET_ENV, attempts, timeout: '2s' } });

/** Every value under the stack's prefix, as text: hashes, strings, lists, sets and sorted sets. */
async function everyRedisValue(redis: Redis, prefix: string): Promise<string> {
  const texts: string[] = [];
  for await (const keys of redis.scanStream({ match: `${prefix}:*`, count: 500 }) as AsyncIterable<string[]>) {
    for (const key of keys) {
      const type = await redis.type(key);
      if (type === 'hash') texts.push(JSON.stringify(await redis.hgetall(key)));
      else if (type === 'string') texts.push((await redis.getBuffer(key))?.toString('latin1') ?? '');
      else if (type === 'list') texts.push(JSON.stringify(await redis.lrange(key, 0, -1)));
      else if (type === 'set') texts.push(JSON.stringify(await redis.smembers(key)));
      else if (type === 'zset') texts.push(JSON.stringify(await redis.zrange(key, '0', '-1')));
    }
  }
  return texts.join('\n');
}

describe('job notify.webhook', () => {
  it('POSTs the run summary once when the run ends, signed over "<timestamp>.<body>"; the secret is in no Redis value and no log line', async () => {
    const stack = await startStack(true);
    const started = await stack.start(await stack.writeJob({ catalogCsv: productCsv(3), job: { notify: notify() } }));
    const meta = await stack.waitForRun(started.runId);
    await waitFor(() => log.lines('webhook delivered').length > 0, 10_000, 'the webhook delivery');
    expect(received).toHaveLength(1);
    const [hook] = received;
    const timestamp = hook!.headers['x-bunch-timestamp'] as string;
    expect(Math.abs(Number(timestamp) - Date.now() / 1000)).toBeLessThan(60);
    const expected = createHmac('sha256', SECRET).update(`${timestamp}.${hook!.body}`).digest('hex');
    expect(hook!.headers['x-bunch-signature']).toBe(`sha256=${expected}`);
    expect(hook!.headers['content-type']).toBe('application/json');
    // The body is summary.json as the run wrote it, plus the chat line.
    const { text, ...body } = JSON.parse(hook!.body) as Record<string, unknown>;
    expect(body).toEqual(await stack.readSummary(stack.storeFor(meta.config.outputUrl), started.runId));
    expect(text).toBe(`bunch: run ${started.runId} of ${meta.config.jobName} succeeded: 3 succeeded, 0 failed, 0 skipped, 0 cancelled; $${meta.costUsd.toFixed(2)}`);
    // The run config keeps the variable's name; the secret itself is nowhere in Redis or the logs.
    expect(meta.config.notify?.webhook).toMatchObject({ secretEnv: SECRET_ENV });
    const redisText = await everyRedisValue(stack.plane.redis, stack.prefix);
    expect(redisText).toContain(SECRET_ENV);
    expect(redisText).not.toContain(SECRET);
    expect(JSON.stringify(log.lines())).not.toContain(SECRET);
  });

  it('tries a receiver that answers 500 `attempts` times, logs one warning, and the run still finalizes succeeded', async () => {
    answer = 500;
    const stack = await startStack(true);
    const started = await stack.start(await stack.writeJob({ catalogCsv: productCsv(2), job: { notify: notify(2) } }));
    const meta = await stack.waitForRun(started.runId);
    expect(meta.status).toBe('succeeded');
    await waitFor(() => log.lines('webhook not delivered; the run itself is unaffected').length > 0, 15_000, 'the notifier to give up');
    expect(received).toHaveLength(2);
    expect(log.lines().filter((line) => (line['level'] as number) >= 40)).toEqual([
      expect.objectContaining({ runId: started.runId, outcome: 'failed', attempts: 2, last: 'answered 500' }),
    ]);
    expect((await stack.plane.runs.getMeta(started.runId))?.status).toBe('succeeded');
  });

  it('refuses a webhook on a private address unless BUNCH_NOTIFY_ALLOW_PRIVATE is set: one warning, nothing sent, the run unaffected', async () => {
    const stack = await startStack(false);
    const started = await stack.start(await stack.writeJob({ catalogCsv: productCsv(2), job: { notify: notify() } }));
    const meta = await stack.waitForRun(started.runId);
    expect(meta.status).toBe('succeeded');
    await waitFor(() => log.lines().some((line) => line['outcome'] === 'refused'), 10_000, 'the refusal');
    expect(log.lines().filter((line) => (line['level'] as number) >= 40)).toEqual([
      expect.objectContaining({ runId: started.runId, outcome: 'refused', reason: expect.stringContaining('loopback') }),
    ]);
    expect(received).toHaveLength(0);
  });
});
