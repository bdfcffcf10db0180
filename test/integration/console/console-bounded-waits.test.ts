import { readdir, readlink, writeFile, mkdir } from 'node:fs/promises';
import { connect } from 'node:net';
import path from 'node:path';
import { Queue } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { openControlPlane, type ControlPlane } from '../../../src/cli/control-plane.js';
import { startConsole, type RunningConsole } from '../../../src/console/start-console.js';
import { tempDir, type TempDir } from '../../../src/local/temp-dir.js';
import { silentLogger } from '../../../src/logging/create-logger.js';
import { startMetricsServer, type MetricsServer } from '../../../src/metrics/metrics-server.js';
import { WorkerMetrics } from '../../../src/metrics/worker-metrics.js';
import { openObjectStore } from '../../../src/storage/open-object-store.js';
import { config } from '../../helpers/run-fixtures.js';
import { startRedis, type RedisHandle } from '../../helpers/start-redis.js';

/**
 * What the console and a worker's /metrics do when what they read stops answering: a Redis frozen
 * with its connection up (SIGSTOP here; a frozen VM, a partition dropping packets), and a browser
 * that stops reading a file. Before: each request waited for ever (the control plane's commands
 * have no timeout), and a stalled download held its file open until the console stopped.
 */
describe('the console and /metrics answer within bounds', () => {
  let redis: RedisHandle | undefined;
  let plane: ControlPlane | undefined;
  let running: RunningConsole | undefined;
  let metricsServer: MetricsServer | undefined;
  let queue: Queue | undefined;
  let dir: TempDir | undefined;
  afterEach(async () => {
    if (redis?.pid) process.kill(redis.pid, 'SIGCONT');
    await running?.close();
    await metricsServer?.close();
    await queue?.close();
    await plane?.close();
    await redis?.stop();
    await dir?.remove();
    redis = plane = running = metricsServer = queue = dir = undefined;
  });

  async function consoleWithARun(options: { answerWithinMs?: number; idleConnectionMs?: number } = {}): Promise<{ url: string; runId: string; outputDir: string }> {
    redis = await startRedis({ ignoreEnv: true });
    plane = await openControlPlane(redis.url, 'bounded');
    dir = await tempDir('console-bounded');
    const outputDir = path.join(dir.path, 'out');
    const runId = 'bounded-run';
    await plane.runs.createRun({ ...config(runId), outputUrl: `file://${outputDir}` }, Date.now() + 60_000);
    running = await startConsole({
      plane,
      prefix: 'bounded',
      port: 0,
      host: '127.0.0.1',
      openStore: (url) => openObjectStore(url),
      logger: silentLogger(),
      sampleEveryMs: 60_000,
      retryAnswerWithinMs: 100,
      ...options,
    });
    return { url: running.url, runId, outputDir };
  }

  /** A GET that fails the test itself (not by the test's timeout) if it takes longer than `ms`. */
  async function get(url: string, ms = 8000): Promise<{ status: number; body: string; retryAfter: string | null }> {
    const response = await fetch(url, { signal: AbortSignal.timeout(ms) });
    return { status: response.status, body: await response.text(), retryAfter: response.headers.get('retry-after') };
  }

  it('answers 503 E_TIMEOUT while Redis is frozen, then serves again once it answers', async () => {
    const { url, runId } = await consoleWithARun({ answerWithinMs: 2500 });
    expect((await get(`${url}/api/runs`)).status).toBe(200);

    process.kill(redis?.pid as number, 'SIGSTOP');
    const message = 'no answer from Redis or the output store within 2500 ms; try again once they answer';
    // Asked at once: each waits out the bound by itself.
    const pages = ['/', `/runs/${runId}`, '/metrics'];
    const board = '/queues/api/queues?activeQueue=generate&page=1&jobsPerPage=10';
    const cancel = fetch(`${url}/runs/${runId}/cancel`, { method: 'POST', redirect: 'manual', headers: { origin: url }, signal: AbortSignal.timeout(8000) });
    const [api, boardAnswer, runs, run, metrics] = await Promise.all([`/api/runs/${runId}`, board, ...pages].map((page) => get(`${url}${page}`)));
    expect(api).toEqual({ status: 503, body: JSON.stringify({ error: { code: 'E_TIMEOUT', message } }), retryAfter: '10' });
    // bull-board's API is under /queues.
    expect(boardAnswer).toEqual(api);
    expect(metrics).toEqual({ status: 503, body: `E_TIMEOUT: ${message}\n`, retryAfter: '10' });
    // Pages reload themselves: an open dashboard recovers by itself once Redis does.
    for (const page of [runs, run]) {
      expect([page?.status, page?.retryAfter]).toEqual([503, '10']);
      expect(page?.body).toContain('<meta http-equiv="refresh" content="10">');
      expect(page?.body).toContain(`<p id="message">E_TIMEOUT: ${message}. This page tries again every 10 s.</p>`);
    }
    // A button's request may still be carried out once Redis answers: never told "try again".
    const cancelled = await cancel;
    expect(cancelled.status).toBe(303);
    const location = new URL(cancelled.headers.get('location') as string, url);
    expect(location.pathname).toBe(`/runs/${runId}`);
    expect(location.searchParams.get('message')).toBe(
      'Asked for, but Redis or the output store did not answer within 2500 ms: it goes on once they answer. Check this page before asking again.',
    );

    process.kill(redis?.pid as number, 'SIGCONT');
    // The requests answered 503 settle now, into responses already sent: nothing breaks.
    const again = await get(`${url}/api/runs/${runId}`);
    expect(again.status).toBe(200);
    expect(JSON.parse(again.body)).toMatchObject({ config: { runId }, status: 'planning' });
    expect((await get(`${url}/metrics`)).body).toContain('bunch_runs{status="planning"} 1');
  });

  it('stopping lets requests in flight have their answer', async () => {
    const { url, runId } = await consoleWithARun({ answerWithinMs: 5000 });
    process.kill(redis?.pid as number, 'SIGSTOP');
    const inFlight = get(`${url}/api/runs/${runId}`);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const closing = (running as RunningConsole).close();
    running = undefined;
    setTimeout(() => process.kill(redis?.pid as number, 'SIGCONT'), 300);
    // Before: close() dropped every connection at once, and this request failed with the socket.
    const answer = await inFlight;
    const t0 = Date.now();
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toMatchObject({ config: { runId } });
    await closing;
    // The answered request's connection was closed once idle, not kept alive until the cut (6 s).
    expect(Date.now() - t0).toBeLessThan(2500);
    // Closed: nothing new is taken.
    await expect(get(`${url}/api/runs`, 2000)).rejects.toThrow('fetch failed');
  });

  it("a worker's /metrics serves its own counters while Redis is frozen, with the queues' last depth", async () => {
    redis = await startRedis({ ignoreEnv: true });
    queue = new Queue('generate', { connection: { host: '127.0.0.1', port: Number(new URL(redis.url).port), maxRetriesPerRequest: null }, prefix: 'bounded' });
    await queue.add('one', {});
    const metrics = new WorkerMetrics({ defaultMetrics: false, redisAnswerMs: 300 });
    metrics.watchQueues({ generate: queue });
    metricsServer = await startMetricsServer(metrics.registry, 0);
    expect((await get(metricsServer.url)).body).toContain('bunch_queue_jobs{queue="generate",state="waiting"} 1');

    process.kill(redis.pid as number, 'SIGSTOP');
    metrics.items.inc({ status: 'succeeded', lane: 'sync' }, 3);
    const frozen = await get(metricsServer.url, 5000);
    expect(frozen.status).toBe(200);
    expect(frozen.body).toContain('bunch_items_total{status="succeeded",lane="sync"} 3');
    expect(frozen.body).toContain('bunch_queue_jobs{queue="generate",state="waiting"} 1');
    // ... and says how old that depth is.
    const age = Number(/^bunch_queue_jobs_age_seconds\{queue="generate"\} ([\d.]+)$/m.exec(frozen.body)?.[1]);
    expect(age).toBeGreaterThanOrEqual(0.3);
  });

  it('drops a download whose reader stopped reading, letting its file go', async () => {
    const { url, runId, outputDir } = await consoleWithARun({ idleConnectionMs: 500 });
    // Bigger than what the loopback socket's buffers hold, so the transfer really stalls.
    const file = path.join(outputDir, 'SKU-1', 'big.png');
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, Buffer.alloc(64 * 1024 * 1024, 7));
    const { port } = new URL(url);
    const socket = connect(Number(port), '127.0.0.1');
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    let closed = false;
    socket.on('close', () => (closed = true));
    socket.on('error', () => undefined);
    socket.write(`GET /runs/${runId}/files/SKU-1/big.png HTTP/1.1\r\nHost: localhost:${port}\r\n\r\n`);
    // Read a little (the answer started), then stop reading.
    await new Promise<void>((resolve) => socket.once('data', () => resolve()));
    socket.pause();
    expect(await openFilesNamed(file)).toBe(1);

    const deadline = Date.now() + 10_000;
    while ((await openFilesNamed(file)) > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await openFilesNamed(file)).toBe(0);
    socket.resume();
    await new Promise((resolve) => setTimeout(resolve, 200));
    socket.destroy();
    expect(closed).toBe(true);
  });
});

/** How many of this process's file descriptors point at `file`. */
async function openFilesNamed(file: string): Promise<number> {
  let count = 0;
  for (const fd of await readdir('/proc/self/fd')) {
    const target = await readlink(`/proc/self/fd/${fd}`).catch(() => '');
    if (target === file) count += 1;
  }
  return count;
}
