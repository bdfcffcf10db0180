/**
 * The marker and the stored-output index are found by item key and inputHash, and the inputHash
 * covers what is sent to the model, not where the answer is stored. When the key an item is
 * planned at changes while its request does not — a row field used only in `output.key` changes,
 * or the operator edits `output.key` — the item is made again at its new key. Before, it was
 * recorded `skipped` with the old key, and nothing was ever written where the template points.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ManifestItemLine, ManifestLine } from '../../../src/manifest/manifest-line.js';
import { startBunchStack, type BunchStack } from '../../helpers/bunch-stack.js';
import { loadJobFile } from '../../../src/spec/load-job-file.js';

const items = (manifest: ManifestLine[]) => manifest.filter((line): line is ManifestItemLine => line.status !== 'rejected');

describe('object key changes without a request change', () => {
  let stack: BunchStack;
  beforeAll(async () => {
    stack = await startBunchStack({ concurrency: 4 });
    await stack.startWorkers();
  });
  afterAll(async () => stack?.stop());

  async function run(jobFile: string) {
    const started = await stack.start(jobFile);
    const meta = await stack.waitForRun(started.runId);
    const store = stack.storeFor(started.outputUrl);
    return { meta, store, manifest: items(await stack.readManifest(store, started.runId)) };
  }

  it('a row field used only in output.key changes (brand renamed): the output appears at the new key', async () => {
    const outputUrl = `file://${stack.dir.path}/brand-key`;
    const jobFile = await stack.writeJob({
      catalogCsv: 'sku,title,brand\nSKU-1,Mug,acme\n',
      outputUrl,
      job: { output: { url: outputUrl, key: '{{brand}}/{{key}}.{{ext}}' } },
    });
    const first = await run(jobFile);
    expect(first.manifest[0]!.image!.key).toBe('acme/SKU-1.png');

    // Nightly refresh: the brand was renamed; the prompt ({{title}}) is unchanged.
    const job = await loadJobFile(jobFile);
    await writeFile(job.catalog.path, 'sku,title,brand\nSKU-1,Mug,bolt\n');
    const second = await run(jobFile);
    const line = second.manifest[0]!;
    expect(line.status).toBe('succeeded');
    expect(line.image!.key).toBe('bolt/SKU-1.png');
    expect(await second.store.head('bolt/SKU-1.png')).toBeDefined();

    // The night after, nothing changed: skipped at the new key.
    const third = await run(jobFile);
    expect(third.manifest.map((item) => [item.status, item.image?.key])).toEqual([['skipped', 'bolt/SKU-1.png']]);
  });

  it('the operator edits output.key: the output appears at the new key', async () => {
    const outputUrl = `file://${stack.dir.path}/template-edit`;
    const jobFile = await stack.writeJob({ catalogCsv: 'sku,title\nSKU-1,Mug\n', outputUrl });
    const first = await run(jobFile);
    expect(first.manifest[0]!.image!.key).toMatch(/^SKU-1\/main-[0-9a-f]{12}\.png$/);
    const jobFile2 = await stack.writeJob({ catalogCsv: 'sku,title\nSKU-1,Mug\n', outputUrl, job: { output: { url: outputUrl, key: 'images/{{key}}.{{ext}}' } } });
    // Same job name, so the same index pointer and markers.
    const text = (await readFile(jobFile2, 'utf8')).replace(/^name: .*$/m, `name: ${(await loadJobFile(jobFile)).name}`);
    await writeFile(jobFile2, text);
    const second = await run(jobFile2);
    expect(second.manifest[0]!.status).toBe('succeeded');
    expect(second.manifest[0]!.image!.key).toBe('images/SKU-1.png');
    expect(await second.store.head('images/SKU-1.png')).toBeDefined();
  });
});
