import { writeFile } from 'node:fs/promises';
import type { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRun } from '../../../src/lanes/start-run.js';
import { silentLogger } from '../../../src/logging/create-logger.js';
import { storedIndexPointerKey } from '../../../src/outputs/stored-index-pointer.js';
import { loadJobFile } from '../../../src/spec/load-job-file.js';
import { createS3Client } from '../../../src/storage/create-s3-client.js';
import { S3ObjectStore } from '../../../src/storage/s3-object-store.js';
import { productCsv, startBunchStack, type BunchStack } from '../../helpers/bunch-stack.js';
import { startS3, type S3Handle } from '../../helpers/start-s3.js';

/** A client that counts the S3 operations sent through it, by command name. */
function countingClient(s3: S3Handle): { client: S3Client; counts: Map<string, number> } {
  const client = createS3Client(s3.settings);
  const counts = new Map<string, number>();
  client.middlewareStack.add(
    (next, context) => async (args) => {
      counts.set(context.commandName as string, (counts.get(context.commandName as string) ?? 0) + 1);
      return next(args);
    },
    { step: 'initialize', name: 'countCommands' },
  );
  return { client, counts };
}

describe('stored-output index on S3 (s3rver): planning makes O(changed + listing pages) requests', () => {
  let s3: S3Handle;
  let stack: BunchStack;
  beforeAll(async () => {
    s3 = await startS3();
    stack = await startBunchStack({ concurrency: 8, s3: s3.settings });
    await stack.startWorkers();
  });
  afterAll(async () => {
    await stack?.stop();
    await s3?.stop();
  });

  it('a second night of 60 rows with 2 changed: 2 GETs and a few LIST pages with the index, a GET per row without', async () => {
    const outputUrl = `s3://${s3.bucket}/nightly`;
    const jobFile = await stack.writeJob({ catalogCsv: productCsv(60), outputUrl });
    const job = await loadJobFile(jobFile);
    const first = await stack.start(jobFile);
    expect((await stack.waitForRun(first.runId, 120_000)).counts.succeeded).toBe(60);
    await writeFile(job.catalog.path, productCsv(60, (i) => (i === 10 || i === 50 ? `Product ${i} in a new colour` : `Product ${i}`)));

    const planWithCounts = async () => {
      const { client, counts } = countingClient(s3);
      const store = new S3ObjectStore({ ...s3.settings, bucket: s3.bucket, prefix: 'nightly', client });
      const started = await startRun(await loadJobFile(jobFile), { runs: stack.plane.runs, queues: stack.plane.queues, openStore: () => store, logger: silentLogger() });
      // Only planning's requests: the workers and the finalizer use stores of their own.
      const planning = new Map(counts);
      const meta = await stack.waitForRun(started.runId, 120_000);
      client.destroy();
      return { planning, meta };
    };

    const indexed = await planWithCounts();
    expect(indexed.meta.counts).toEqual({ succeeded: 2, failed: 0, skipped: 58, cancelled: 0 });
    // GETs: the index pointer and the index. No marker read, no HEAD.
    expect(indexed.planning.get('GetObjectCommand')).toBe(2);
    expect(indexed.planning.get('HeadObjectCommand') ?? 0).toBe(0);
    // LISTs: one page of markers, and the whole location (outputs sort before `_bunch/` and
    // `runs/`, which are jumped over: one page each).
    expect(indexed.planning.get('ListObjectsV2Command')).toBe(4);

    // The same night without an index (outputs of an older version): every stored row is read.
    const store = stack.storeFor(outputUrl);
    await store.delete(storedIndexPointerKey(job.name));
    const unindexed = await planWithCounts();
    expect(unindexed.meta.counts).toEqual({ succeeded: 0, failed: 0, skipped: 60, cancelled: 0 });
    // The pointer (missing) and one marker per row.
    expect(unindexed.planning.get('GetObjectCommand')).toBe(61);
    expect(unindexed.planning.get('ListObjectsV2Command')).toBe(1);
  });
});
