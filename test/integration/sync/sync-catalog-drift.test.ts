import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { latestPointerKey, removedKeysObject, type RemovedKeyLine } from '../../../src/manifest/catalog-drift.js';
import { productCsv, startBunchStack, type BunchStack } from '../../helpers/bunch-stack.js';

let stack: BunchStack | undefined;
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

describe('catalog drift', () => {
  it('a catalog with 5 products removed reports exactly those 5, with the outputs to take down', async () => {
    stack = await startBunchStack();
    await stack.startWorkers();
    const outputUrl = `file://${path.join(stack.dir.path, 'out')}`;
    const name = 'drift-job';
    const first = await stack.start(await stack.writeJob({ catalogCsv: productCsv(12), outputUrl, job: { name } }));
    await stack.waitForRun(first.runId);
    const store = stack.storeFor(outputUrl);
    expect(await stack.readSummary(store, first.runId)).not.toHaveProperty('removedKeys');
    const pointer = JSON.parse((await store.get(latestPointerKey(name)))!.toString('utf8'));
    expect(pointer).toMatchObject({ runId: first.runId, jobName: name, manifest: `runs/${first.runId}/manifest.jsonl` });

    // Products 2, 4, 6, 8 and 10 are delisted; two new ones and a bad row arrive.
    const kept = productCsv(12).trim().split('\n').filter((line, i) => i === 0 || ![2, 4, 6, 8, 10].includes(i));
    const csv = [...kept, 'SKU-0100,New lamp', 'SKU-0101,New chair', 'SKU-0012,'].join('\n') + '\n';
    const second = await stack.start(await stack.writeJob({ catalogCsv: csv, outputUrl, job: { name } }));
    await stack.waitForRun(second.runId);
    const summary = await stack.readSummary(store, second.runId);
    expect(summary).toMatchObject({ removedKeys: 5, comparedWithRun: first.runId, removed: store.uriFor(removedKeysObject(second.runId)) });
    const removed = (await store.get(removedKeysObject(second.runId)))!
      .toString('utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as RemovedKeyLine);
    expect(removed.map((line) => line.key).sort()).toEqual(['SKU-0002', 'SKU-0004', 'SKU-0006', 'SKU-0008', 'SKU-0010']);
    expect(removed.every((line) => line.lastRunId === first.runId && line.outputs.length === 2 && line.outputs[0]!.startsWith('file://'))).toBe(true);
    // The pointer moved on to the run that succeeded last.
    expect(JSON.parse((await store.get(latestPointerKey(name)))!.toString('utf8')).runId).toBe(second.runId);
  });
  it('a malformed row (no readable key) is not reported removed: drift is left out, saying why', async () => {
    stack = await startBunchStack();
    await stack.startWorkers();
    const outputUrl = `file://${path.join(stack.dir.path, 'out')}`;
    const name = 'drift-malformed';
    const first = await stack.start(await stack.writeJob({ catalogCsv: productCsv(3), outputUrl, job: { name } }));
    await stack.waitForRun(first.runId);
    const store = stack.storeFor(outputUrl);

    // The second night SKU-0002's title gains an unquoted comma: its record has 3 fields, no key is read.
    const csv = 'sku,title\nSKU-0001,"Product 1"\nSKU-0002,Product 2, large\nSKU-0003,"Product 3"\n';
    const second = await stack.start(await stack.writeJob({ catalogCsv: csv, outputUrl, job: { name } }));
    await stack.waitForRun(second.runId);
    const summary = await stack.readSummary(store, second.runId);
    // Before: removedKeys 1 and removed.jsonl naming SKU-0002, its images to take down.
    expect(summary.rejectedRows).toBe(1);
    expect(summary).not.toHaveProperty('removedKeys');
    expect(summary.driftNotReported).toBe("1 rejected row had no readable key (see the manifest's rejected lines); any of them may be a product still listed");
    expect(await store.get(removedKeysObject(second.runId))).toBeUndefined();
  });
});
