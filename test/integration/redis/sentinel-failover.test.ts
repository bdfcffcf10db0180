import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openControlPlane } from '../../../src/cli/control-plane.js';
import { startRun } from '../../../src/lanes/start-run.js';
import { silentLogger } from '../../../src/logging/create-logger.js';
import type { ManifestItemLine } from '../../../src/manifest/manifest-line.js';
import { TERMINAL_RUN_STATUSES } from '../../../src/runs/run-config.js';
import type { RunMeta } from '../../../src/runs/run-store.js';
import { loadJobFile } from '../../../src/spec/load-job-file.js';
import { openObjectStore } from '../../../src/storage/open-object-store.js';
import { startWorkers } from '../../../src/workers/start-workers.js';
import { productCsv, startBunchStack, type BunchStack } from '../../helpers/bunch-stack.js';
import { startRedisSentinel, type RedisSentinelHandle } from '../../helpers/redis-sentinel.js';

let ha: RedisSentinelHandle;
let stack: BunchStack;
beforeAll(async () => {
  ha = await startRedisSentinel();
  stack = await startBunchStack();
});
afterAll(async () => {
  await stack?.stop();
  await ha?.stop();
});

describe('Redis Sentinel', () => {
  it('the primary is killed mid-run: a replica is promoted and the run completes, every item once, nothing paid twice beyond calls in flight', async () => {
    const prefix = `t${randomBytes(3).toString('hex')}`;
    const concurrency = 4;
    const plane = await openControlPlane(ha.url, prefix);
    const fleet = await startWorkers({
      redisUrl: ha.url,
      prefix,
      concurrency,
      gemini: { baseUrl: stack.emulator.url, apiKey: stack.emulator.apiKey ?? 'unused' },
      openStore: (url) => openObjectStore(url),
      logger: silentLogger(),
      lockDurationMs: 3000,
      stalledIntervalMs: 1000,
    });
    try {
      stack.emulator.setKnobs({ latency: { kind: 'fixed', ms: 300 } });
      const job = await loadJobFile(await stack.writeJob({ catalogCsv: productCsv(60), job: { sync: { timeoutMs: '5s', attempts: 5, backoff: { initialMs: 200, maxMs: 1000, jitter: 0 } } } }));
      const started = await startRun(job, { runs: plane.runs, queues: plane.queues, openStore: (url) => stack.storeFor(url), logger: silentLogger() });
      const metaNow = async (): Promise<RunMeta | undefined> => {
        try {
          return await plane.runs.getMeta(started.runId);
        } catch {
          return undefined; // mid-failover: ask again
        }
      };
      for (let meta = await metaNow(); (meta?.terminal ?? 0) < 8; meta = await metaNow()) await new Promise((resolve) => setTimeout(resolve, 20));

      const crashedAt = Date.now();
      await ha.primary.crash!();
      const deadline = Date.now() + 90_000;
      let meta = await metaNow();
      let terminalBefore = meta?.terminal ?? 0;
      let lastProgress = Date.now();
      let longestStallMs = 0;
      while (!meta || !TERMINAL_RUN_STATUSES.includes(meta.status)) {
        if (Date.now() > deadline) throw new Error(`run not finished after the failover: ${JSON.stringify(meta?.counts)}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
        meta = await metaNow();
        if (meta && meta.terminal > terminalBefore) {
          longestStallMs = Math.max(longestStallMs, Date.now() - lastProgress);
          terminalBefore = meta.terminal;
          lastProgress = Date.now();
        }
      }
      if (process.env.DEBUG_DRILL) console.log(`failover drill: longest stall ${longestStallMs} ms, run done ${Date.now() - crashedAt} ms after the crash, paid ${stack.emulator.requestLog.count({ route: "generateContent", status: 200 })}`);
      expect(await ha.masterPort()).toBe(ha.replica.port);
      expect(meta.status).toBe('succeeded');
      expect(meta.counts).toMatchObject({ succeeded: 60, failed: 0, cancelled: 0 });

      const manifest = (await stack.readManifest(stack.storeFor(started.outputUrl), started.runId)) as ManifestItemLine[];
      expect(manifest).toHaveLength(60);
      expect(new Set(manifest.map((line) => line.itemKey)).size).toBe(60);
      // Bound: only calls in flight when the primary died (at most the fleet's concurrency) can be paid again.
      const paid = stack.emulator.requestLog.count({ route: 'generateContent', status: 200 });
      expect(paid).toBeGreaterThanOrEqual(60);
      expect(paid).toBeLessThanOrEqual(60 + concurrency);
    } finally {
      await fleet.close();
      await plane.close();
    }
  }, 150_000);
});
