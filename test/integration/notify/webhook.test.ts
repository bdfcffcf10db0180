import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { productCsv, startBunchStack, type BunchStack } from '../../helpers/bunch-stack.js';
import { waitFor } from '../../helpers/spawn-worker.js';

interface Received {
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

const SECRET = 'whsec-test-only';
let server: Server;
let port: number;
let answer = 200;
const received: Received[] = [];
beforeAll(async () => {
  process.env.BUNCH_TEST_WEBHOOK_SECRET = SECRET;
  server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      received.push({ headers: request.headers, body });
      response.statusCode = answer;
      response.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as { port: number }).port;
});
afterAll(async () => {
  delete process.env.BUNCH_TEST_WEBHOOK_SECRET;
  await new Promise((resolve) => server.close(resolve));
});

let stack: BunchStack | undefined;
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
  received.length = 0;
  answer = 200;
});

const notify = (attempts = 3) => ({ webhook: { url: `http://127.0.0.1:${port}/hooks/bunch`, secretEnv: 'BUNCH_TEST_WEBHOOK_SECRET', attempts, timeout: '2s' } });

describe('job notify.webhook', () => {
  it('POSTs the summary once when the run ends, signed with HMAC-SHA256 over "<timestamp>.<body>"; the secret is nowhere in Redis', async () => {
    stack = await startBunchStack();
    await stack.startWorkers({ allowPrivateWebhooks: true });
    const started = await stack.start(await stack.writeJob({ catalogCsv: productCsv(3), job: { notify: notify() } }));
    const meta = await stack.waitForRun(started.runId);
    await waitFor(() => received.length > 0, 10_000, 'the webhook');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(received).toHaveLength(1);
    const [hook] = received;
    const timestamp = hook!.headers['x-bunch-timestamp'] as string;
    const expected = createHmac('sha256', SECRET).update(`${timestamp}.${hook!.body}`).digest('hex');
    expect(hook!.headers['x-bunch-signature']).toBe(`sha256=${expected}`);
    expect(hook!.headers['content-type']).toBe('application/json');
    const body = JSON.parse(hook!.body) as { runId: string; status: string; counts: { succeeded: number }; text: string };
    expect(body).toMatchObject({ runId: started.runId, status: 'succeeded', counts: { succeeded: 3 } });
    expect(body.text).toBe(`bunch: run ${started.runId} of ${meta.config.jobName} succeeded: 3 succeeded, 0 failed, 0 skipped, 0 cancelled; $0.17`);
    const stored = JSON.stringify(await stack.plane.redis.hgetall(stack.plane.runs.keys(started.runId).meta));
    expect(stored).toContain('BUNCH_TEST_WEBHOOK_SECRET');
    expect(stored).not.toContain(SECRET);
  });

  it('a receiver that keeps failing is tried `attempts` times and the run still succeeds', async () => {
    answer = 500;
    stack = await startBunchStack();
    await stack.startWorkers({ allowPrivateWebhooks: true });
    const started = await stack.start(await stack.writeJob({ catalogCsv: productCsv(2), job: { notify: notify(2) } }));
    const meta = await stack.waitForRun(started.runId);
    expect(meta.status).toBe('succeeded');
    await waitFor(() => received.length >= 2, 15_000, 'two attempts');
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(received).toHaveLength(2);
  });

  it('a webhook on a private address is refused by the address guard unless allowed; the run is unaffected', async () => {
    stack = await startBunchStack();
    await stack.startWorkers();
    const started = await stack.start(await stack.writeJob({ catalogCsv: productCsv(2), job: { notify: notify() } }));
    const meta = await stack.waitForRun(started.runId);
    expect(meta.status).toBe('succeeded');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(received).toHaveLength(0);
  });
});
