import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ManifestItemLine, ManifestLine } from '../../../src/manifest/manifest-line.js';
import { loadJobFile } from '../../../src/spec/load-job-file.js';
import { cancelRun } from '../../../src/lanes/cancel-run.js';
import { waitFor } from '../../helpers/spawn-worker.js';
import { productCsv, startBunchStack, type BunchStack } from '../../helpers/bunch-stack.js';

const items = (manifest: ManifestLine[]) => manifest.filter((line): line is ManifestItemLine => line.status !== 'rejected');

/**
 * output.key without {{hash}} is allowed (docs/job-file.md). A row that changes A -> B -> A:
 * night 2 overwrites the image at the same key with B's image; night 3 must not skip on A's old
 * marker, whose image key now holds B's bytes.
 */
describe('a row flipping back to an earlier input under a key template without {{hash}}', () => {
  let stack: BunchStack;
  beforeAll(async () => {
    stack = await startBunchStack({ concurrency: 4 });
    await stack.startWorkers();
  });
  afterAll(async () => stack?.stop());

  it('night 3 does not skip with the output of another input', async () => {
    const outputUrl = `file://${stack.dir.path}/flip`;
    const jobFile = await stack.writeJob({ catalogCsv: productCsv(3), outputUrl, job: { output: { url: outputUrl, key: '{{key}}/{{variant}}.{{ext}}' } } });
    const job = await loadJobFile(jobFile);
    const store = stack.storeFor(outputUrl);
    const run = async () => {
      const started = await stack.start(jobFile);
      const meta = await stack.waitForRun(started.runId);
      const manifest = items(await stack.readManifest(store, started.runId));
      return { meta, line: manifest.find((l) => l.key === 'SKU-0002')! };
    };
    const n1 = await run();
    expect(n1.meta.counts).toMatchObject({ succeeded: 3 });
    await writeFile(job.catalog.path, productCsv(3, (i) => (i === 2 ? 'Product 2, now in blue' : `Product ${i}`)));
    const n2 = await run();
    expect(n2.line.status).toBe('succeeded');
    expect(n2.line.image!.key).toBe(n1.line.image!.key);
    expect(n2.line.image!.sha256).not.toBe(n1.line.image!.sha256);
    await writeFile(job.catalog.path, productCsv(3));
    const n3 = await run();
    const bytes = (await store.get(n3.line.image!.key))!;
    const actual = createHash('sha256').update(bytes).digest('hex');
    // What the manifest says the stored image is must be what storage holds.
    expect({ status: n3.line.status, sha256: n3.line.image!.sha256 }).toEqual({ status: n3.line.status, sha256: actual });
    expect(n3.line.status).toBe('succeeded');
  });

  it('a stopped run that wrote another input over the keys leaves no marker vouching for the old one', async () => {
    const outputUrl = `file://${stack.dir.path}/flip-stopped`;
    const jobFile = await stack.writeJob({ catalogCsv: productCsv(3), outputUrl, job: { output: { url: outputUrl, key: '{{key}}/{{variant}}.{{ext}}' } } });
    const job = await loadJobFile(jobFile);
    const store = stack.storeFor(outputUrl);
    const n1 = await stack.start(jobFile);
    expect((await stack.waitForRun(n1.runId)).counts).toMatchObject({ succeeded: 3 });
    const a = items(await stack.readManifest(store, n1.runId)).find((l) => l.key === 'SKU-0002')!;
    // Night 2: row 2 changes (B is written over A's keys), then the run is cancelled while row 3's
    // slow call runs: a stopped run does not move the job's stored-output index, which names A.
    await writeFile(job.catalog.path, productCsv(3, (i) => (i === 2 ? 'Product 2, now in blue' : i === 3 ? 'Product 3 [[emu:latency=4000ms]]' : `Product ${i}`)));
    const n2 = await stack.start(jobFile);
    await waitFor(async () => ((await stack.plane.runs.getMeta(n2.runId))?.counts.succeeded ?? 0) >= 1, 20_000, 'row 2 made again');
    expect((await cancelRun(stack.plane.runs, stack.plane.queues, n2.runId)).requested).toBe(true);
    expect((await stack.waitForRun(n2.runId, 20_000)).status).toBe('cancelled');
    // Night 3: row 2 is back to A. Its keys hold B's bytes: it must be made again, not skipped.
    await writeFile(job.catalog.path, productCsv(3));
    const n3 = await stack.start(jobFile);
    await stack.waitForRun(n3.runId);
    const line = items(await stack.readManifest(store, n3.runId)).find((l) => l.key === 'SKU-0002')!;
    const bytes = (await store.get(line.image!.key))!;
    // Before: skipped from the index, the manifest giving A's sha256 beside B's bytes.
    expect({ status: line.status, sha256: line.image!.sha256 }).toEqual({ status: 'succeeded', sha256: createHash('sha256').update(bytes).digest('hex') });
    expect(line.image!.sha256).toBe(a.image!.sha256);
  });
});
