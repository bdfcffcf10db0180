import { afterEach, describe, expect, it } from 'vitest';
import { productCsv, startBunchStack, type BunchStack } from '../../helpers/bunch-stack.js';
import { killIfRunning, spawnWorker, waitFor, type WorkerProcess } from '../../helpers/spawn-worker.js';

let stack: BunchStack | undefined;
let worker: WorkerProcess | undefined;
afterEach(async () => {
  await killIfRunning(worker);
  await stack?.stop();
  stack = undefined;
});

/** `bunch worker --metrics-port` as a real process: it says where its metrics are, serves them, and stops serving when told to stop. */
describe('bunch worker --metrics-port', () => {
  it('serves /metrics on the port it logs, counts the items it records, and exits 0 on SIGTERM', async () => {
    stack = await startBunchStack();
    const env = { REDIS_URL: stack.redis.url, BUNCH_PREFIX: stack.prefix, GEMINI_BASE_URL: stack.emulator.url, GEMINI_API_KEY: stack.emulator.apiKey ?? 'unused' };
    worker = spawnWorker(env, ['--concurrency', '2', '--metrics-port', '0']);
    await waitFor(() => worker!.stderr().includes('"workers ready"'), 30_000, 'the worker to start');
    const logged = worker.stderr().split('\n').find((line) => line.includes('"metrics served"'));
    const url = (JSON.parse(logged!) as { metrics: string }).metrics;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const run = await stack.start(await stack.writeJob({ catalogCsv: productCsv(5) }));
    await stack.waitForRun(run.runId);
    const text = await (await fetch(url)).text();
    expect(text).toContain('bunch_items_total{status="succeeded",lane="sync"} 5');
    expect(text).toContain('bunch_model_calls_total{outcome="ok",protocol="gemini"} 5');
    worker.child.kill('SIGTERM');
    expect(await worker.exited).toEqual({ code: 0, signal: null });
    await expect(fetch(url)).rejects.toThrow();
  });

  it('refuses a bad port before starting', async () => {
    stack = await startBunchStack();
    worker = spawnWorker({ REDIS_URL: stack.redis.url, BUNCH_PREFIX: stack.prefix, GEMINI_API_KEY: 'unused' }, ['--metrics-port', '70000']);
    expect((await worker.exited).code).toBe(2);
    expect(worker.stderr()).toContain('bunch: E_CONFIG: --metrics-port must be a port number from 0 to 65535, not "70000"');
  });
});
