import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planPreview } from '../../../src/cli/plan-preview.js';
import { startRun } from '../../../src/lanes/start-run.js';
import { silentLogger } from '../../../src/logging/create-logger.js';
import type { ManifestItemLine, ManifestLine } from '../../../src/manifest/manifest-line.js';
import { storedIndexObject, storedIndexPointerKey, type StoredIndexPointer } from '../../../src/outputs/stored-index-pointer.js';
import type { StoredIndexEntry } from '../../../src/outputs/stored-index-entry.js';
import { loadJobFile } from '../../../src/spec/load-job-file.js';
import type { ObjectStore } from '../../../src/storage/object-store.js';
import { productCsv, startBunchStack, type BunchStack } from '../../helpers/bunch-stack.js';
import { countingStore } from '../../helpers/counting-store.js';
import { paidCalls } from '../../helpers/paid-calls.js';

const items = (manifest: ManifestLine[]) => manifest.filter((line): line is ManifestItemLine => line.status !== 'rejected');
const byKey = (lines: ManifestItemLine[]) => new Map(lines.map((line) => [line.key, line]));

/**
 * Both ways the index is checked against storage, on a real local directory: a stat per object
 * it names (the local store's existsSync) and, with existsSync hidden as on S3, listings.
 */
describe.each([
  { check: 'existsSync' as const, existsSync: true },
  { check: 'listing' as const, existsSync: false },
])('stored-output index checked by $check: a second night plans from the index and never trusts it over storage', ({ check, existsSync }) => {
  let stack: BunchStack;
  beforeAll(async () => {
    stack = await startBunchStack({ concurrency: 4 });
    await stack.startWorkers();
  });
  afterAll(async () => stack?.stop());

  /** A run through startRun with a store that writes down every call planning makes. */
  async function startCounted(jobFile: string) {
    const job = await loadJobFile(jobFile);
    const counted = countingStore(stack.storeFor(job.output.url), { existsSync });
    const started = await startRun(job, { runs: stack.plane.runs, queues: stack.plane.queues, openStore: () => counted.store, logger: silentLogger() });
    const meta = await stack.waitForRun(started.runId);
    return { started, meta, calls: counted.calls, manifest: items(await stack.readManifest(stack.storeFor(job.output.url), started.runId)) };
  }

  async function firstNight(name: string, csv = productCsv(8)) {
    const jobFile = await stack.writeJob({ catalogCsv: csv, outputUrl: `file://${stack.dir.path}/${name}-${check}` });
    const first = await startCounted(jobFile);
    expect(first.meta.counts).toMatchObject({ succeeded: 8, skipped: 0 });
    return { jobFile, first, store: stack.storeFor(first.started.outputUrl), jobName: (await loadJobFile(jobFile)).name };
  }

  async function readIndex(store: ObjectStore, runId: string): Promise<StoredIndexEntry[]> {
    const body = await store.get(storedIndexObject(runId));
    return body!.toString('utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as StoredIndexEntry);
  }

  it('finalize writes the index and its pointer; the next run skips every item without reading a marker', async () => {
    const { jobFile, first, store, jobName } = await firstNight('unchanged');
    const pointer = JSON.parse((await store.get(storedIndexPointerKey(jobName)))!.toString('utf8')) as StoredIndexPointer;
    expect(pointer).toMatchObject({ schemaVersion: 1, jobName, runId: first.started.runId, index: storedIndexObject(first.started.runId), entries: 8 });
    const entries = await readIndex(store, first.started.runId);
    expect(entries.map((entry) => entry.itemKey).sort()).toEqual(first.manifest.map((line) => line.itemKey).sort());
    expect(entries[0]).not.toHaveProperty('image.uri');

    const paidBefore = paidCalls(stack.emulator);
    const second = await startCounted(jobFile);
    expect(second.meta.counts).toEqual({ succeeded: 0, failed: 0, skipped: 8, cancelled: 0 });
    expect(paidCalls(stack.emulator)).toBe(paidBefore);
    // No marker read, no HEAD: the pointer, the index, and either two listings (markers, then the
    // outputs) or a stat of each item's marker, image and caption.
    expect(second.calls.get.filter((key) => key.startsWith('_bunch/results/'))).toEqual([]);
    expect(second.calls.head).toEqual([]);
    if (check === 'listing') {
      expect(second.calls.list).toEqual(['_bunch/results/', '']);
      expect(second.calls.exists).toEqual([]);
    } else {
      expect(second.calls.list).toEqual([]);
      expect(second.calls.exists.sort()).toEqual(first.manifest.flatMap((line) => [markerKeyOf(line), line.image!.key, line.caption!.key]).sort());
    }
    expect(second.calls.get).toContain(storedIndexObject(first.started.runId));
    // The skipped lines are what the markers would have said: same outputs, paid by the first run.
    const before = byKey(first.manifest);
    for (const line of second.manifest) {
      const original = before.get(line.key)!;
      expect(line).toMatchObject({ status: 'skipped', reused: true, reusedFrom: first.started.runId, costUsd: 0, inputHash: original.inputHash });
      expect(line.image).toEqual(original.image);
      expect(line.caption).toEqual(original.caption);
    }
    // The second night's index stands for the job now, and still names the first run as the payer.
    const next = await readIndex(store, second.started.runId);
    expect(next).toHaveLength(8);
    expect(new Set(next.map((entry) => entry.runId))).toEqual(new Set([first.started.runId]));
  });

  it('each night keeps its own index and the one before; older indexes are removed, manifests stay', async () => {
    const { jobFile, first, store, jobName } = await firstNight('pruned');
    const second = await startCounted(jobFile);
    const third = await startCounted(jobFile);
    expect(third.meta.counts).toMatchObject({ skipped: 8 });
    const pointer = JSON.parse((await store.get(storedIndexPointerKey(jobName)))!.toString('utf8')) as StoredIndexPointer;
    expect(pointer).toMatchObject({ runId: third.started.runId, index: storedIndexObject(third.started.runId), previous: storedIndexObject(second.started.runId) });
    expect(await store.head(storedIndexObject(first.started.runId))).toBeUndefined();
    expect(await store.head(storedIndexObject(second.started.runId))).toBeDefined();
    expect(await store.head(storedIndexObject(third.started.runId))).toBeDefined();
    for (const run of [first, second, third]) expect(await store.head(`runs/${run.started.runId}/manifest.jsonl`)).toBeDefined();
    // The fourth night plans from the third's index as before.
    const fourth = await startCounted(jobFile);
    expect(fourth.meta.counts).toEqual({ succeeded: 0, failed: 0, skipped: 8, cancelled: 0 });
    expect(fourth.calls.get).toContain(storedIndexObject(third.started.runId));
    expect(await store.head(storedIndexObject(second.started.runId))).toBeUndefined();
  });

  it('a finalize that cannot write its index temp copy still finishes the run, and the job pointer goes: the next run reads markers', async () => {
    const { jobFile, first, store, jobName } = await firstNight('no-temp');
    const pointerKey = storedIndexPointerKey(jobName);
    expect(await store.head(pointerKey)).toBeDefined();
    const tmp = process.env.TMPDIR;
    process.env.TMPDIR = path.join(stack.dir.path, 'no-such-temp-dir');
    let second: Awaited<ReturnType<typeof startCounted>>;
    try {
      second = await startCounted(jobFile);
    } finally {
      if (tmp === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = tmp;
    }
    expect(second.meta).toMatchObject({ status: 'succeeded', counts: { succeeded: 0, failed: 0, skipped: 8, cancelled: 0 } });
    expect(second.manifest).toHaveLength(8);
    expect(await store.head(storedIndexObject(second.started.runId))).toBeUndefined();
    expect(await store.head(pointerKey)).toBeUndefined();
    // Nothing names the first night's index any more: it goes with the pointer.
    expect(await store.head(storedIndexObject(first.started.runId))).toBeUndefined();

    const paidBefore = paidCalls(stack.emulator);
    const third = await startCounted(jobFile);
    expect(third.meta.counts).toEqual({ succeeded: 0, failed: 0, skipped: 8, cancelled: 0 });
    expect(paidCalls(stack.emulator)).toBe(paidBefore);
    expect(third.calls.get.filter((key) => key.startsWith('_bunch/results/'))).toHaveLength(8);
    expect(JSON.parse((await store.get(pointerKey))!.toString('utf8'))).toMatchObject({ runId: third.started.runId });
  });

  it('a deleted image and a deleted caption are made again, not skipped; their stale markers are replaced', async () => {
    const { jobFile, first, store } = await firstNight('deleted');
    const lines = byKey(first.manifest);
    const lostImage = lines.get('SKU-0002')!;
    const lostCaption = lines.get('SKU-0005')!;
    await store.delete(lostImage.image!.key);
    await store.delete(lostCaption.caption!.key);

    const paidBefore = paidCalls(stack.emulator);
    const second = await startCounted(jobFile);
    expect(second.meta.counts).toEqual({ succeeded: 2, failed: 0, skipped: 6, cancelled: 0 });
    expect(paidCalls(stack.emulator)).toBe(paidBefore + 2);
    expect(second.manifest.filter((line) => line.status === 'succeeded').map((line) => line.key).sort()).toEqual(['SKU-0002', 'SKU-0005']);
    // Only the two the index could not vouch for were read and checked.
    expect(second.calls.get.filter((key) => key.startsWith('_bunch/results/')).sort()).toEqual([lostImage, lostCaption].map((line) => markerKeyOf(line)).sort());
    expect(second.calls.delete.sort()).toEqual([lostImage, lostCaption].map((line) => markerKeyOf(line)).sort());
    expect(await store.head(lostImage.image!.key)).toBeDefined();
    expect(await store.head(lostCaption.caption!.key)).toBeDefined();
    expect(await store.head(markerKeyOf(lostImage))).toBeDefined();
  });

  it('a changed row is made again; a deleted marker is made again; the rest are skipped', async () => {
    const { jobFile, first, store } = await firstNight('changed');
    await store.delete(markerKeyOf(byKey(first.manifest).get('SKU-0007')!));
    const csv = productCsv(8, (i) => (i === 3 ? 'Product 3, now in blue' : `Product ${i}`));
    const job = await loadJobFile(jobFile);
    await writeFile(job.catalog.path, csv);

    const second = await startCounted(jobFile);
    expect(second.meta.counts).toEqual({ succeeded: 2, failed: 0, skipped: 6, cancelled: 0 });
    expect(second.manifest.filter((line) => line.status === 'succeeded').map((line) => line.key).sort()).toEqual(['SKU-0003', 'SKU-0007']);
    // The changed row's new marker was not there: no read. The index vouched for SKU-0007 but its
    // marker was not there either: one careful look, which finds nothing (a GET after a listing;
    // with existsSync, the stat that answers before any GET).
    const lostMarker = markerKeyOf(byKey(first.manifest).get('SKU-0007')!);
    expect(second.calls.get.filter((key) => key.startsWith('_bunch/results/'))).toEqual(check === 'listing' ? [lostMarker] : []);
    if (check === 'existsSync') expect(second.calls.exists.filter((key) => key === lostMarker)).toHaveLength(2);
    const changed = byKey(second.manifest).get('SKU-0003')!;
    expect(changed.inputHash).not.toBe(byKey(first.manifest).get('SKU-0003')!.inputHash);
  });

  it('an index entry that disagrees with its marker (another inputHash) is not trusted: the marker decides', async () => {
    const { jobFile, first, store } = await firstNight('tampered');
    const entries = await readIndex(store, first.started.runId);
    const target = entries.find((entry) => entry.itemKey.startsWith('SKU-0004#'))!;
    target.inputHash = 'f'.repeat(64);
    await store.put(storedIndexObject(first.started.runId), entries.map((entry) => JSON.stringify(entry)).join('\n') + '\n');

    const second = await startCounted(jobFile);
    expect(second.meta.counts).toEqual({ succeeded: 0, failed: 0, skipped: 8, cancelled: 0 });
    expect(second.calls.get.filter((key) => key.startsWith('_bunch/results/'))).toEqual([markerKeyOf(byKey(first.manifest).get('SKU-0004')!)]);
  });

  it('an index that is not JSON is ignored: every row is checked through its marker, nothing is lost or paid', async () => {
    const { jobFile, first, store } = await firstNight('corrupt');
    const body = (await store.get(storedIndexObject(first.started.runId)))!.toString('utf8');
    await store.put(storedIndexObject(first.started.runId), body.slice(0, Math.floor(body.length / 2) + 10));
    const paidBefore = paidCalls(stack.emulator);
    const second = await startCounted(jobFile);
    expect(second.meta.counts).toEqual({ succeeded: 0, failed: 0, skipped: 8, cancelled: 0 });
    expect(paidCalls(stack.emulator)).toBe(paidBefore);
    expect(second.calls.get.filter((key) => key.startsWith('_bunch/results/'))).toHaveLength(8);
  });

  it('a dry run whose catalog breaks off fails with its code and leaves no temp copy of the index behind', async () => {
    const { jobFile, store } = await firstNight('dry-broken');
    // The same catalog as JSON that breaks off after its 8 rows.
    const rows = Array.from({ length: 8 }, (_, i) => JSON.stringify({ sku: `SKU-${String(i + 1).padStart(4, '0')}`, title: `Product ${i + 1}` }));
    const loaded = await loadJobFile(jobFile);
    const broken = path.join(path.dirname(loaded.catalog.path), 'broken.json');
    await writeFile(broken, `[\n${rows.join(',\n')},\n{"sku": "SKU-0009", "title": `);
    const job = { ...loaded, catalog: { ...loaded.catalog, path: broken, displayPath: 'broken.json', format: 'json' as const } };
    const temp = await mkdtemp(path.join(tmpdir(), 'bunch-preview-'));
    try {
      // The index was loaded (a temp copy made) before the catalog broke off.
      await expect(planPreview(job, () => countingStore(store, { existsSync }).store, { tempRoot: temp })).rejects.toMatchObject({ code: 'E_CATALOG_FILE' });
      expect(await readdir(temp)).toEqual([]);
      const preview = await planPreview(await loadJobFile(jobFile), () => countingStore(store, { existsSync }).store, { tempRoot: temp });
      expect(preview).toMatchObject({ items: 8, alreadyStored: 8 });
      expect(await readdir(temp)).toEqual([]);
    } finally {
      await rm(temp, { recursive: true, force: true });
    }
  });

  it('a dry run answers from the index too and repairs nothing', async () => {
    const { jobFile, first, store } = await firstNight('dry');
    const lost = byKey(first.manifest).get('SKU-0001')!;
    await store.delete(lost.image!.key);
    const preview = await planPreview(await loadJobFile(jobFile), (url) => countingStore(stack.storeFor(url), { existsSync }).store);
    expect(preview).toMatchObject({ items: 8, alreadyStored: 7, toGenerate: 1 });
    expect(await store.head(markerKeyOf(lost))).toBeDefined();
  });
});

function markerKeyOf(line: ManifestItemLine): string {
  return `_bunch/results/${line.inputHash.slice(0, 2)}/${line.inputHash}-${sha16(line.itemKey)}.json`;
}

import { createHash } from 'node:crypto';
function sha16(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}
