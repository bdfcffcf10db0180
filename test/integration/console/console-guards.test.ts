import { request } from 'node:http';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPage, runsPage } from '../../../src/console/console-pages.js';
import { startConsole, type RunningConsole } from '../../../src/console/start-console.js';
import { silentLogger } from '../../../src/logging/create-logger.js';
import type { RunMeta } from '../../../src/runs/run-store.js';
import { productCsv, startBunchStack, type BunchStack } from '../../helpers/bunch-stack.js';

/**
 * The console's guards against other web pages and against its own buttons: a token-less console
 * on loopback answers only to loopback names (DNS rebinding), refuses changes from another origin
 * or `Origin: null`, bull-board's buttons cannot remove bunch's jobs, a malformed cookie is no
 * token, files are streamed, and a run whose planner is gone is shown as such.
 */
const TOKEN = 'console-token-0123456789';

interface Answer {
  status: number;
  body: string;
}

/** An HTTP request with any Host header (fetch will not send a forged one). */
function send(url: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? 'GET', headers: options.headers ?? {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    if (options.body !== undefined) req.write(options.body);
    req.end();
  });
}

describe('console guards', () => {
  let stack: BunchStack;
  let open: RunningConsole;
  let withToken: RunningConsole;
  let port: string;

  beforeAll(async () => {
    // No workers: runs stay `running`, their jobs waiting.
    stack = await startBunchStack({ concurrency: 1 });
    const common = { plane: stack.plane, prefix: stack.prefix, port: 0, host: '127.0.0.1', openStore: stack.storeFor, logger: silentLogger(), sampleEveryMs: 60_000 };
    open = await startConsole(common);
    withToken = await startConsole({ ...common, token: TOKEN });
    port = new URL(open.url).port;
  });
  afterAll(async () => {
    await open?.close();
    await withToken?.close();
    await stack?.stop();
  });

  const runningRun = async (): Promise<string> => (await stack.start(await stack.writeJob({ catalogCsv: productCsv(3) }))).runId;

  it('without a token, answers only to loopback names: a rebinding page reads nothing and cancels nothing', async () => {
    const runId = await runningRun();
    const host = `rebind.example:${port}`;
    const refusal = 'this console answers only to localhost, 127.0.0.1 or [::1] (set BUNCH_CONSOLE_TOKEN to serve it under another name)\n';

    const read = await send(`${open.url}/api/runs`, { headers: { host } });
    expect(read).toEqual({ status: 403, body: refusal });
    const cancel = await send(`${open.url}/runs/${runId}/cancel`, { method: 'POST', headers: { host, origin: `http://${host}`, 'content-type': 'application/x-www-form-urlencoded' }, body: '' });
    expect(cancel).toEqual({ status: 403, body: refusal });
    expect((await stack.plane.runs.getMeta(runId))?.stop).toBeUndefined();

    // Loopback names, any port, are served.
    for (const name of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, 'localhost']) {
      const answer = await send(`${open.url}/api/runs`, { headers: { host: name } });
      expect([name, answer.status, answer.body.includes(runId)]).toEqual([name, 200, true]);
    }
    // With a token the token is the guard: a proxy's name in Host is fine.
    const proxied = await send(`${withToken.url}/api/runs`, { headers: { host: 'console.example', authorization: `Bearer ${TOKEN}` } });
    expect(proxied.status).toBe(200);
  });

  it('refuses changes from a sandboxed frame (Origin: null) and bull-board changes from another origin', async () => {
    const runId = await runningRun();
    const fromFrame = await send(`${open.url}/runs/${runId}/cancel`, { method: 'POST', headers: { origin: 'null', 'content-type': 'application/x-www-form-urlencoded' }, body: '' });
    expect(fromFrame).toEqual({ status: 403, body: 'cross-site request refused\n' });
    const crossSite = await send(`${open.url}/runs/${runId}/cancel`, { method: 'POST', headers: { 'sec-fetch-site': 'cross-site' } });
    expect(crossSite.status).toBe(403);
    expect((await stack.plane.runs.getMeta(runId))?.stop).toBeUndefined();

    const queue = encodeURIComponent(stack.plane.queues.generate.name);
    const pause = await send(`${open.url}/queues/api/queues/${queue}/pause`, { method: 'PUT', headers: { origin: 'http://elsewhere.example' } });
    expect(pause).toEqual({ status: 403, body: 'cross-site request refused\n' });
    expect(await stack.plane.queues.generate.isPaused()).toBe(false);

    // The console's own form (same origin) and a script with the token still work.
    const own = await send(`${open.url}/runs/${runId}/cancel`, { method: 'POST', headers: { origin: open.url, 'content-type': 'application/x-www-form-urlencoded' }, body: '' });
    expect(own.status).toBe(303);
    expect((await stack.plane.runs.getMeta(runId))?.stop).toBe('E_CANCELLED');
  });

  it('behind a proxy that rewrites Host, forms from BUNCH_CONSOLE_ORIGIN are accepted, others still refused', async () => {
    const common = { plane: stack.plane, prefix: stack.prefix, port: 0, host: '127.0.0.1', openStore: stack.storeFor, logger: silentLogger(), sampleEveryMs: 60_000 };
    const proxied = await startConsole({ ...common, token: TOKEN, publicOrigin: 'https://console.example.com' });
    try {
      const form = { method: 'POST', headers: { host: '127.0.0.1:8787', 'content-type': 'application/x-www-form-urlencoded' } };
      // The login form as a browser sends it through nginx (Host rewritten to the upstream's).
      const login = await send(`${proxied.url}/login`, { ...form, headers: { ...form.headers, origin: 'https://console.example.com' }, body: `token=${TOKEN}&next=%2F` });
      // Before: 403 "cross-site request refused" for every form behind such a proxy, login included.
      expect(login.status).toBe(303);
      const elsewhere = await send(`${proxied.url}/login`, { ...form, headers: { ...form.headers, origin: 'https://evil.example' }, body: `token=${TOKEN}` });
      expect(elsewhere).toEqual({ status: 403, body: 'cross-site request refused\n' });
    } finally {
      await proxied.close();
    }
    await expect(startConsole({ ...common, publicOrigin: 'https://console.example.com/path' })).rejects.toMatchObject({
      code: 'E_CONFIG',
      message: 'BUNCH_CONSOLE_ORIGIN "https://console.example.com/path" must be an origin: http(s)://host[:port], no path',
    });
  });

  it("bull-board is read-only: its Empty button cannot remove a run's queued jobs", async () => {
    const runId = await runningRun();
    const queue = encodeURIComponent(stack.plane.queues.generate.name);
    const before = await stack.plane.queues.generate.getJobCountByTypes('waiting', 'prioritized');
    expect(before).toBeGreaterThanOrEqual(3);
    const emptied = await send(`${withToken.url}/queues/api/queues/${queue}/empty`, { method: 'PUT', headers: { authorization: `Bearer ${TOKEN}` } });
    // Before: 200, and the run stayed `running` with its items gone for good.
    expect(emptied.status).toBe(405);
    expect(await stack.plane.queues.generate.getJobCountByTypes('waiting', 'prioritized')).toBe(before);
    expect((await stack.plane.runs.getMeta(runId))?.status).toBe('running');
  });

  it('a malformed console cookie is no token (401), not a server error', async () => {
    const answer = await send(`${withToken.url}/api/runs`, { headers: { cookie: 'bunch_console=%E0%A4%A' } });
    expect(answer.status).toBe(401);
  });

  it('streams a stored image instead of reading it whole', async () => {
    const runId = await runningRun();
    const meta = (await stack.plane.runs.getMeta(runId)) as RunMeta;
    const dir = new URL(meta.config.outputUrl).pathname;
    await mkdir(path.join(dir, 'big'), { recursive: true });
    const size = 128 * 1024 * 1024;
    await writeFile(path.join(dir, 'big', 'huge.png'), Buffer.alloc(size, 1));
    const before = process.memoryUsage().arrayBuffers;
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().arrayBuffers)), 2);
    let received = 0;
    try {
      await new Promise<void>((resolve, reject) => {
        const req = request(`${open.url}/runs/${runId}/files/big/huge.png`, (res) => {
          expect(res.headers['content-type']).toBe('image/png');
          res.on('data', (chunk: Buffer) => (received += chunk.length));
          res.on('end', () => resolve());
        });
        req.on('error', reject);
        req.end();
      });
    } finally {
      clearInterval(sampler);
    }
    expect(received).toBe(size);
    // Before: the whole object (128 MB) was held at once.
    expect(peak - before).toBeLessThan(48 * 1024 * 1024);
  });

  it("shows a run whose planner is gone as stopped, and stops refreshing its pages", async () => {
    const runId = await runningRun();
    const meta = (await stack.plane.runs.getMeta(runId)) as RunMeta;
    const gone: RunMeta = { ...meta, planned: false, status: 'running', plannerUntil: Date.parse('2026-12-01T00:00:00Z') };
    const page = runPage(gone, [], { hasGallery: false });
    expect(page).toContain('(planning stopped: its planner is gone since 2026-12-01T00:00:00.000Z; the worker fleet ends the run with the items it had handed out)');
    expect(page).not.toContain('http-equiv="refresh"');
    expect(runsPage([gone], [])).not.toContain('http-equiv="refresh"');
    const planning: RunMeta = { ...gone, plannerUntil: Date.now() + 60_000 };
    expect(runPage(planning, [], { hasGallery: false })).toContain('(still planning)');
    expect(runPage(planning, [], { hasGallery: false })).toContain('http-equiv="refresh"');
  });
});
