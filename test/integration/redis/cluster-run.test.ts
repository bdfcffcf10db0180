import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openControlPlane } from '../../../src/cli/control-plane.js';
import { startRun } from '../../../src/lanes/start-run.js';
import { silentLogger } from '../../../src/logging/create-logger.js';
import type { ManifestItemLine } from '../../../src/manifest/manifest-line.js';
import { TERMINAL_RUN_STATUSES } from '../../../src/runs/run-config.js';
import { loadJobFile } from '../../../src/spec/load-job-file.js';
import { openObjectStore } from '../../../src/storage/open-object-store.js';
import { startWorkers } from '../../../src/workers/start-workers.js';
import { productCsv, startBunchStack, type BunchStack } from '../../helpers/bunch-stack.js';
import { startRedisCluster, type RedisClusterHandle } from '../../helpers/redis-cluster.js';

let cluster: RedisClusterHandle;
let stack: BunchStack;
beforeAll(async () => {
  cluster = await startRedisCluster(3);
  stack = await startBunchStack();
});
afterAll(async () => {
  await stack?.stop();
  await cluster?.stop();
});

async function runOn(seedUrl: string, workerSeedUrl: string, prefix: string, items: number) {
  const plane = await openControlPlane(seedUrl, prefix);
  const store = (url: string) => stack.storeFor(url);
  const fleet = await startWorkers({
    redisUrl: workerSeedUrl,
    prefix,
    concurrency: 4,
    gemini: { baseUrl: stack.emulator.url, apiKey: stack.emulator.apiKey ?? 'unused' },
    openStore: (url) => openObjectStore(url),
    logger: silentLogger(),
  });
  try {
    const job = await loadJobFile(await stack.writeJob({ catalogCsv: productCsv(items) }));
    const started = await startRun(job, { runs: plane.runs, queues: plane.queues, openStore: store, logger: silentLogger() });
    const deadline = Date.now() + 60_000;
    for (;;) {
      const meta = await plane.runs.getMeta(started.runId);
      if (meta && TERMINAL_RUN_STATUSES.includes(meta.status)) {
        const manifest = (await stack.readManifest(store(started.outputUrl), started.runId)) as ManifestItemLine[];
        return { meta, manifest };
      }
      if (Date.now() > deadline) throw new Error(`run not finished: ${JSON.stringify(meta)}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } finally {
    await fleet.close();
    await plane.close();
  }
}

describe('Redis Cluster', () => {
  it('a run completes whichever node the URLs name; every key of the prefix lives in its one slot', async () => {
    const prefix = `{t${randomBytes(3).toString('hex')}}`;
    for (const [control, workers] of [[0, 1], [1, 2], [2, 0]] as const) {
      const { meta, manifest } = await runOn(cluster.urlVia(control), cluster.urlVia(workers), prefix, 12);
      expect(meta.status).toBe('succeeded');
      expect(new Set(manifest.map((line) => line.itemKey)).size).toBe(12);
    }
    // Scan every node: the prefix's keys are all in the slot of its hash tag (Redis computes the slots).
    const keys: string[] = [];
    const slots = new Set<number>();
    for (const node of cluster.nodes) {
      const client = new Redis(node.port, '127.0.0.1');
      const found = await client.keys(`${prefix}*`);
      keys.push(...found);
      for (const key of [prefix, ...found]) slots.add(Number(await client.call('CLUSTER', 'KEYSLOT', key)));
      client.disconnect();
    }
    expect(keys.length).toBeGreaterThan(5);
    expect(keys.some((key) => key.includes(':generate:')) && keys.some((key) => key.includes(':run:'))).toBe(true);
    expect(slots.size).toBe(1);
  });

  it('refuses a prefix without a hash tag, and a redis:// URL naming one cluster node, with E_CONFIG saying why', async () => {
    await expect(openControlPlane(cluster.url, 'bunch')).rejects.toMatchObject({
      code: 'E_CONFIG',
      message: expect.stringContaining("on Redis Cluster the key prefix must carry a hash tag, e.g. BUNCH_PREFIX='{bunch}'"),
    });
    await expect(openControlPlane(`redis://127.0.0.1:${cluster.nodes[1]!.port}`, '{bunch}')).rejects.toMatchObject({
      code: 'E_CONFIG',
      message: expect.stringContaining('is one node of a Redis Cluster: use a redis+cluster:// URL'),
    });
  });
});
