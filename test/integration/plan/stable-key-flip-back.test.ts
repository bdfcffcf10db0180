import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ManifestItemLine, ManifestLine } from '../../../src/manifest/manifest-line.js';
import { loadJobFile } from '../../../src/spec/load-job-file.js';
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
});
