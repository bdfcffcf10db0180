import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createBatchFromFile } from '../../../src/gemini/batch-api.js';
import { createGeminiClient } from '../../../src/gemini/gemini-client.js';
import { BunchError } from '../../../src/errors/bunch-error.js';
import { referenceObjectKey } from '../../../src/references/reference-object-key.js';
import type { ObjectStore } from '../../../src/storage/object-store.js';
import { openObjectStore } from '../../../src/storage/open-object-store.js';
import { startBunchStack, type BunchStack } from '../../helpers/bunch-stack.js';
import { solidImage } from '../../helpers/image-server.js';
import { batchJob, finishBatchRun, paidCalls } from '../batch/batch-harness.js';

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/**
 * A reference image stored at planning and gone from storage by the time its shard is submitted
 * (deleted by a clean-up, a lifecycle rule): only the items naming it fail, and the rest of the
 * shard is still made as a batch. Before, the whole shard was refused and every other item moved
 * to the sync lane, paid at the full price.
 */
describe('a batch shard whose reference image went missing from storage', () => {
  let stack: BunchStack | undefined;
  afterEach(async () => {
    await stack?.stop();
    stack = undefined;
  });

  async function plannedWithPhotos(
    rowsWithLost: string[],
    rowsWithKept: string[],
    options: {
      maxActiveBatches?: number;
      beforeWorkers?: () => Promise<void>;
      variants?: Record<string, unknown>[];
      planned?: { items: number; batched: number };
      /** The store the workers see (the same local directory, with a fault in front). */
      workerStore?: (store: ObjectStore) => ObjectStore;
    } = {},
  ) {
    const batch = { pendingMs: options.maxActiveBatches ? 1500 : 20, runningMs: 60, ...(options.maxActiveBatches ? { maxActiveBatches: options.maxActiveBatches } : {}) };
    stack = await startBunchStack({ emulator: { profile: { batch } } });
    const lost = await solidImage({ r: 200, g: 40, b: 40 });
    const kept = await solidImage({ r: 40, g: 40, b: 200 });
    await writeFile(path.join(stack.dir.path, 'lost.png'), lost);
    await writeFile(path.join(stack.dir.path, 'kept.png'), kept);
    const csv = ['sku,title,photo', ...rowsWithLost.map((sku) => `${sku},Item ${sku},lost.png`), ...rowsWithKept.map((sku) => `${sku},Item ${sku},kept.png`)].join('\n');
    const outputUrl = `file://${path.join(stack.dir.path, 'out')}`;
    const jobFile = await stack.writeJob({
      catalogCsv: csv,
      outputUrl,
      job: { ...batchJob({ maxRequestsPerBatch: 10 }), references: { sources: ['photo'] }, ...(options.variants ? { variants: options.variants } : {}) },
    });
    // Planned with no worker running: the shard waits to be submitted.
    const started = await stack.start(jobFile);
    const items = rowsWithLost.length + rowsWithKept.length;
    expect(started).toMatchObject({ ...(options.planned ?? { items, batched: items }), lane: 'batch', shards: 1 });
    const store = stack.storeFor(outputUrl);
    expect(await store.delete(referenceObjectKey(sha256(lost)))).toBeUndefined();
    expect(await store.get(referenceObjectKey(sha256(lost)))).toBeUndefined();
    if (rowsWithKept.length > 0) expect(await store.get(referenceObjectKey(sha256(kept)))).toBeDefined();
    await options.beforeWorkers?.();
    await stack.startWorkers(options.workerStore ? { openStore: (url) => options.workerStore!(openObjectStore(url)) } : {});
    return { started, outputUrl, store, lost, lostKey: referenceObjectKey(sha256(lost)) };
  }

  it('fails the items naming it E_REFERENCE without a call and makes the others in the batch', async () => {
    const { started, outputUrl, lostKey } = await plannedWithPhotos(['L1', 'L2'], ['K1', 'K2', 'K3', 'K4']);
    const { meta, manifest, shards } = await finishBatchRun(stack!, started.runId, outputUrl, 6);
    expect(meta.counts).toEqual({ succeeded: 4, failed: 2, skipped: 0, cancelled: 0 });
    // Before: { http: 4, batch: 0 } — the whole shard refused, the four others paid at full price.
    expect(paidCalls(stack!)).toEqual({ http: 0, batch: 4 });
    expect(stack!.emulator.requestLog.count({ route: 'generateContent' })).toBe(0);
    const byKey = new Map(manifest.map((line) => [line.key, line]));
    for (const key of ['L1', 'L2']) {
      expect(byKey.get(key)).toMatchObject({ status: 'failed', lane: 'batch', errorCode: 'E_REFERENCE', errorMessage: `reference image ${lostKey} is missing from storage` });
    }
    for (const key of ['K1', 'K2', 'K3', 'K4']) expect(byKey.get(key)).toMatchObject({ status: 'succeeded', lane: 'batch' });
    expect(meta.costUsd).toBeCloseTo(4 * 0.058 * 0.5, 9);
    expect(shards.map((shard) => [shard.shard, shard.phase, shard.outcome?.succeeded, shard.outcome?.failed, shard.outcome?.spilled])).toEqual([['s0001', 'done', 4, 2, 0]]);
  });

  it('submits no batch when every item names it', async () => {
    const { started, outputUrl } = await plannedWithPhotos(['L1', 'L2', 'L3'], []);
    const { meta, shards } = await finishBatchRun(stack!, started.runId, outputUrl, 3);
    expect(meta.counts).toEqual({ succeeded: 0, failed: 3, skipped: 0, cancelled: 0 });
    expect(meta.errors).toEqual({ E_REFERENCE: 3 });
    expect(paidCalls(stack!)).toEqual({ http: 0, batch: 0 });
    expect(stack!.emulator.requestLog.count({ route: 'batchGenerateContent' })).toBe(0);
    expect(shards.map((shard) => [shard.phase, shard.upstream, shard.outcome?.failed])).toEqual([['done', undefined, 3]]);
  });

  it('a redelivery after a failed create does not send the items already failed, though their image is back', async () => {
    // One batch at a time upstream, taken by another batch of the key for 1.5 s: the shard's first
    // create answers 429 after its left-out items were recorded, and a later delivery creates it.
    const occupy = async () => {
      const client = createGeminiClient({ baseUrl: stack!.emulator.url, apiKey: stack!.emulator.apiKey ?? 'unused' });
      const occupant = path.join(stack!.dir.path, 'occupant.jsonl');
      await writeFile(occupant, JSON.stringify({ key: 'x', request: { contents: [{ role: 'user', parts: [{ text: 'occupant' }] }] } }) + '\n');
      await createBatchFromFile(client, occupant, { model: 'gemini-3.1-flash-image-preview', displayName: 'occupant' });
    };
    const { started, outputUrl, store, lost, lostKey } = await plannedWithPhotos(['L1', 'L2'], ['K1', 'K2'], { maxActiveBatches: 1, beforeWorkers: occupy });
    for (let tries = 0; tries < 300 && (await stack!.plane.runs.getMeta(started.runId))?.errors.E_REFERENCE !== 2; tries += 1) await new Promise((r) => setTimeout(r, 10));
    const mid = (await stack!.plane.runs.getMeta(started.runId))!;
    const shard = JSON.parse(Object.values(mid.shards)[0]!) as { phase: string; upstream?: string };
    expect([shard.phase, shard.upstream]).toEqual(['submitting', undefined]);
    // The photo is stored again meanwhile (another run of a catalog naming it).
    await store.put(lostKey, lost);
    const { meta, manifest } = await finishBatchRun(stack!, started.runId, outputUrl, 4);
    expect(meta.counts).toEqual({ succeeded: 2, failed: 2, skipped: 0, cancelled: 0 });
    // The occupant, K1 and K2. Before: 5 — L1 and L2 were made and billed, and left out of the run's cost.
    expect(paidCalls(stack!)).toEqual({ http: 0, batch: 3 });
    expect(manifest.filter((line) => line.status === 'failed').map((line) => [line.key, line.errorCode]).sort()).toEqual([
      ['L1', 'E_REFERENCE'],
      ['L2', 'E_REFERENCE'],
    ]);
    expect(meta.costUsd).toBeCloseTo(2 * 0.058 * 0.5, 9);
  });

  it("fails a hero naming it E_REFERENCE and its `from:` variants E_DEPENDENCY, none of them called, while the other row's pair is made", async () => {
    const variants = [{ name: 'hero' }, { name: 'story', from: 'hero', aspectRatio: '9:16', prompt: 'The same scene as a 9:16 story' }];
    // Two rows, two variants each: the heroes are in the shard, each story rides on its hero.
    const { started, outputUrl, lostKey } = await plannedWithPhotos(['L1'], ['K1'], { variants, planned: { items: 4, batched: 2 } });
    const { meta, manifest } = await finishBatchRun(stack!, started.runId, outputUrl, 4);
    expect(meta.counts).toEqual({ succeeded: 2, failed: 2, skipped: 0, cancelled: 0 });
    expect(meta.errors).toEqual({ E_REFERENCE: 1, E_DEPENDENCY: 1 });
    const line = (key: string, variant: string) => manifest.find((entry) => entry.key === key && entry.variant === variant);
    expect(line('L1', 'hero')).toMatchObject({ status: 'failed', errorCode: 'E_REFERENCE', errorMessage: `reference image ${lostKey} is missing from storage`, costUsd: 0 });
    expect(line('L1', 'story')).toMatchObject({
      status: 'failed',
      errorCode: 'E_DEPENDENCY',
      errorMessage: 'it is made from variant "hero" of this row, which did not succeed',
      costUsd: 0,
      attempts: 0,
    });
    expect(line('K1', 'hero')).toMatchObject({ status: 'succeeded', lane: 'batch' });
    expect(line('K1', 'story')).toMatchObject({ status: 'succeeded' });
    // K1's hero in the first batch, K1's story after it (its wave); nothing for L1's pair.
    expect(paidCalls(stack!).http + paidCalls(stack!).batch).toBe(2);
  });

  it('a storage blip while the shard reads the photo it still has is retried: the others are still made as a batch, only those naming the lost photo fail', async () => {
    const keptKey = referenceObjectKey(sha256(await solidImage({ r: 40, g: 40, b: 200 })));
    let blips = 0;
    // The first read of the kept photo fails as an unreachable store does; every later one reads it.
    const blipOnce = (store: ObjectStore): ObjectStore =>
      Object.assign(Object.create(store) as ObjectStore, {
        get: async (key: string) => {
          if (key === keptKey && blips === 0) {
            blips += 1;
            throw new BunchError('E_STORAGE', `storage get ${key} failed: connect ECONNREFUSED`);
          }
          return store.get(key);
        },
      });
    const { started, outputUrl, lostKey } = await plannedWithPhotos(['L1', 'L2'], ['K1', 'K2'], { workerStore: blipOnce });
    const { meta, manifest } = await finishBatchRun(stack!, started.runId, outputUrl, 4);
    expect(blips).toBe(1);
    expect(meta.counts).toEqual({ succeeded: 2, failed: 2, skipped: 0, cancelled: 0 });
    expect(meta.errors).toEqual({ E_REFERENCE: 2 });
    expect(paidCalls(stack!)).toEqual({ http: 0, batch: 2 });
    const byKey = new Map(manifest.map((line) => [line.key, line]));
    for (const key of ['L1', 'L2']) expect(byKey.get(key)).toMatchObject({ status: 'failed', errorCode: 'E_REFERENCE', errorMessage: `reference image ${lostKey} is missing from storage` });
    for (const key of ['K1', 'K2']) expect(byKey.get(key)).toMatchObject({ status: 'succeeded', lane: 'batch' });
  });
});
