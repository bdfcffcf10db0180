import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openControlPlane } from '../../../src/cli/control-plane.js';
import { startRun } from '../../../src/lanes/start-run.js';
import { startPrivateRedis, type RedisHandle } from '../../../src/local/start-private-redis.js';
import { silentLogger } from '../../../src/logging/create-logger.js';
import { TERMINAL_RUN_STATUSES } from '../../../src/runs/run-config.js';
import { loadJobFile } from '../../../src/spec/load-job-file.js';
import { openObjectStore } from '../../../src/storage/open-object-store.js';
import { startWorkers } from '../../../src/workers/start-workers.js';
import { productCsv, startBunchStack, type BunchStack } from '../../helpers/bunch-stack.js';
import { makeTestCertificates } from '../../helpers/tls-certs.js';
import { tempDir, type TempDir } from '../../helpers/temp-dir.js';

let redis: RedisHandle;
let stack: BunchStack;
let certDir: TempDir;
let caFile: string;
const savedCa = process.env.BUNCH_REDIS_TLS_CA_FILE;
beforeAll(async () => {
  certDir = await tempDir('certs');
  const certs = await makeTestCertificates(certDir.path);
  caFile = certs.caFile;
  redis = await startPrivateRedis({ tls: certs });
  stack = await startBunchStack();
});
afterAll(async () => {
  if (savedCa === undefined) delete process.env.BUNCH_REDIS_TLS_CA_FILE;
  else process.env.BUNCH_REDIS_TLS_CA_FILE = savedCa;
  await stack?.stop();
  await redis?.stop();
  await certDir?.remove();
});

describe('Redis over TLS (rediss://)', () => {
  it('refuses a server whose certificate it cannot verify, and runs with the CA given', async () => {
    expect(redis.url).toMatch(/^rediss:\/\/127\.0\.0\.1:\d+$/);
    const prefix = `t${randomBytes(3).toString('hex')}`;
    delete process.env.BUNCH_REDIS_TLS_CA_FILE;
    await expect(openControlPlane(redis.url, prefix)).rejects.toMatchObject({ code: 'E_NETWORK', message: expect.stringContaining('cannot reach Redis at rediss://127.0.0.1') });

    process.env.BUNCH_REDIS_TLS_CA_FILE = caFile;
    const plane = await openControlPlane(redis.url, prefix);
    const fleet = await startWorkers({
      redisUrl: redis.url,
      prefix,
      concurrency: 4,
      gemini: { baseUrl: stack.emulator.url, apiKey: stack.emulator.apiKey ?? 'unused' },
      openStore: (url) => openObjectStore(url),
      logger: silentLogger(),
    });
    try {
      const job = await loadJobFile(await stack.writeJob({ catalogCsv: productCsv(10) }));
      const started = await startRun(job, { runs: plane.runs, queues: plane.queues, openStore: (url) => stack.storeFor(url), logger: silentLogger() });
      const deadline = Date.now() + 60_000;
      let meta = await plane.runs.getMeta(started.runId);
      while (!meta || !TERMINAL_RUN_STATUSES.includes(meta.status)) {
        if (Date.now() > deadline) throw new Error('run over TLS did not finish');
        await new Promise((resolve) => setTimeout(resolve, 50));
        meta = await plane.runs.getMeta(started.runId);
      }
      expect(meta.status).toBe('succeeded');
      expect(meta.counts.succeeded).toBe(10);
    } finally {
      await fleet.close();
      await plane.close();
    }
  });
});
