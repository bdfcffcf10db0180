import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openControlPlane, type ControlPlane } from '../../../src/cli/control-plane.js';
import { startConsole, type RunningConsole } from '../../../src/console/start-console.js';
import { silentLogger } from '../../../src/logging/create-logger.js';
import { openObjectStore } from '../../../src/storage/open-object-store.js';
import { config } from '../../helpers/run-fixtures.js';
import { startRedis, type RedisHandle } from '../../helpers/start-redis.js';

/**
 * A run's webhook URL through the console's API (the same JSON as `bunch status --json`). Before:
 * shown whole, path and query included; a Slack incoming webhook's path is its credential, and on
 * loopback the console needs no token.
 */
describe("the console's API and a run's webhook", () => {
  let redis: RedisHandle;
  let plane: ControlPlane;
  let running: RunningConsole;
  beforeAll(async () => {
    redis = await startRedis({ ignoreEnv: true });
    plane = await openControlPlane(redis.url, 'secrets');
    const webhook = { url: 'https://hooks.example.com/services/T0KENPATH444?token=HOOKTOKEN555', secretEnv: 'BUNCH_WEBHOOK_SECRET', timeoutMs: 10_000, attempts: 3 };
    await plane.runs.createRun({ ...config('hooked'), notify: { webhook } }, Date.now() + 60_000);
    running = await startConsole({ plane, prefix: 'secrets', port: 0, host: '127.0.0.1', openStore: (url) => openObjectStore(url), logger: silentLogger(), sampleEveryMs: 60_000 });
  });
  afterAll(async () => {
    await running?.close();
    await plane?.close();
    await redis?.stop();
  });

  it('names the webhook by its origin only', async () => {
    const one = (await (await fetch(`${running.url}/api/runs/hooked`)).json()) as { config: { notify: { webhook: unknown } } };
    expect(one.config.notify.webhook).toEqual({ url: 'https://hooks.example.com/[redacted]', secretEnv: 'BUNCH_WEBHOOK_SECRET', timeoutMs: 10_000, attempts: 3 });
    const all = await (await fetch(`${running.url}/api/runs`)).text();
    expect(all).toContain('https://hooks.example.com/[redacted]');
    expect(all).not.toMatch(/T0KENPATH444|HOOKTOKEN555/);
  });
});
