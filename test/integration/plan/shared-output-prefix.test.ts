/**
 * Two jobs write to one output location with the same stable key template
 * (`images/{{key}}.{{ext}}`) but other variant names and prompts: job B writes over job A's
 * images. The marker B's write removes is the one the replaced object names (A's item, A's input),
 * so A's next run regenerates its items, through the stored-output index as through the markers.
 * Before: B removed a marker of its own item key with A's hash (one that never existed); A's marker
 * and index went on vouching for A's input, and A's next run recorded every item `skipped` with
 * A's sha256 while the bytes at the key were B's.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRun } from '../../../src/lanes/start-run.js';
import { silentLogger } from '../../../src/logging/create-logger.js';
import type { ManifestItemLine, ManifestLine } from '../../../src/manifest/manifest-line.js';
import { storedIndexPointerKey } from '../../../src/outputs/stored-index-pointer.js';
import { loadJobFile } from '../../../src/spec/load-job-file.js';
import { productCsv, startBunchStack, type BunchStack } from '../../helpers/bunch-stack.js';
import { countingStore } from '../../helpers/counting-store.js';

const items = (manifest: ManifestLine[]) => manifest.filter((line): line is ManifestItemLine => line.status !== 'rejected');

describe.each([
  { check: 'existsSync', existsSync: true },
  { check: 'listing', existsSync: false },
])('two jobs sharing an output prefix (index checked by $check)', ({ check, existsSync }) => {
  let stack: BunchStack;
  beforeAll(async () => {
    stack = await startBunchStack({ concurrency: 4 });
    await stack.startWorkers();
  });
  afterAll(async () => stack?.stop());

  async function run(jobFile: string) {
    const job = await loadJobFile(jobFile);
    const counted = countingStore(stack.storeFor(job.output.url), { existsSync });
    const started = await startRun(job, { runs: stack.plane.runs, queues: stack.plane.queues, openStore: () => counted.store, logger: silentLogger() });
    const meta = await stack.waitForRun(started.runId);
    return { meta, manifest: items(await stack.readManifest(stack.storeFor(job.output.url), started.runId)) };
  }

  it('a job whose images another job wrote over regenerates them: each line describes the bytes at its key', async () => {
    const outputUrl = `file://${stack.dir.path}/shared-${check}`;
    const csv = productCsv(3);
    const jobA = await stack.writeJob({ catalogCsv: csv, outputUrl, job: { prompt: 'Studio photo of {{title}}', variants: [{ name: 'hero' }], output: { url: outputUrl, key: 'images/{{key}}.{{ext}}' } } });
    const jobB = await stack.writeJob({ catalogCsv: csv, outputUrl, job: { prompt: 'Pencil drawing of {{title}}', variants: [{ name: 'main' }], output: { url: outputUrl, key: 'images/{{key}}.{{ext}}' } } });

    const a1 = await run(jobA);
    expect(a1.meta.counts).toMatchObject({ succeeded: 3 });
    const b1 = await run(jobB);
    expect(b1.meta.counts).toMatchObject({ succeeded: 3 });
    // B really replaced A's images at the shared keys (manifest lines are in the order items ended).
    const imageOf = (manifest: ManifestItemLine[], key: string) => manifest.find((line) => line.key === key)!.image!;
    expect(imageOf(b1.manifest, 'SKU-0001').key).toBe(imageOf(a1.manifest, 'SKU-0001').key);
    expect(imageOf(b1.manifest, 'SKU-0001').sha256).not.toBe(imageOf(a1.manifest, 'SKU-0001').sha256);

    const a2 = await run(jobA);
    expect(a2.meta.counts).toMatchObject({ succeeded: 3, skipped: 0 });
    const store = stack.storeFor(outputUrl);
    for (const line of a2.manifest) {
      const bytes = await store.get(line.image!.key);
      const actual = createHash('sha256').update(bytes!).digest('hex');
      expect({ key: line.key, status: line.status, sha256: actual }).toEqual({ key: line.key, status: line.status, sha256: line.image!.sha256 });
    }
  });

  it('without the index (its pointer removed) the marker path sees the overwrite and regenerates', async () => {
    const outputUrl = `file://${stack.dir.path}/shared-ctl-${check}`;
    const csv = productCsv(3);
    const jobA = await stack.writeJob({ catalogCsv: csv, outputUrl, job: { prompt: 'Studio photo of {{title}}', variants: [{ name: 'hero' }], output: { url: outputUrl, key: 'images/{{key}}.{{ext}}' } } });
    const jobB = await stack.writeJob({ catalogCsv: csv, outputUrl, job: { prompt: 'Pencil drawing of {{title}}', variants: [{ name: 'main' }], output: { url: outputUrl, key: 'images/{{key}}.{{ext}}' } } });
    await run(jobA);
    await run(jobB);
    const store = stack.storeFor(outputUrl);
    await store.delete(storedIndexPointerKey((await loadJobFile(jobA)).name));
    const a2 = await run(jobA);
    expect(a2.meta.counts).toMatchObject({ succeeded: 3, skipped: 0 });
  });
});
