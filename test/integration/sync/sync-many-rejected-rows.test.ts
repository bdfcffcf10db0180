import { afterEach, describe, expect, it } from 'vitest';
import type { ManifestRejectedLine } from '../../../src/manifest/manifest-line.js';
import { rejectedPartKey } from '../../../src/manifest/rejected-log.js';
import { startBunchStack, type BunchStack } from '../../helpers/bunch-stack.js';

let stack: BunchStack | undefined;
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

describe('rejected rows stream to storage while planning', () => {
  it('2,100 bad rows land in three part files and then in the manifest, in catalog order', async () => {
    stack = await startBunchStack();
    await stack.startWorkers();
    const rows = ['sku,title', 'GOOD-1,Lamp'];
    for (let i = 0; i < 2100; i += 1) rows.push(`,Nameless ${i}`);
    rows.push('GOOD-2,Chair');
    const started = await stack.start(await stack.writeJob({ catalogCsv: rows.join('\n') + '\n' }));
    expect(started).toMatchObject({ items: 2, rejected: 2100 });
    const store = stack.storeFor(started.outputUrl);
    const part = async (n: number) => (await store.get(rejectedPartKey(started.runId, n)))?.toString('utf8').trim().split('\n').length;
    expect([await part(0), await part(1), await part(2), await part(3)]).toEqual([1000, 1000, 100, undefined]);

    const meta = await stack.waitForRun(started.runId);
    expect(meta).toMatchObject({ status: 'succeeded', rejected: 2100, counts: { succeeded: 2 } });
    const manifest = await stack.readManifest(store, started.runId);
    const rejected = manifest.filter((line): line is ManifestRejectedLine => line.status === 'rejected');
    expect(rejected).toHaveLength(2100);
    expect(rejected.map((line) => line.line)).toEqual(Array.from({ length: 2100 }, (_, i) => i + 3));
    expect(rejected.every((line) => line.errorCode === 'E_CATALOG_ROW' && line.field === 'sku')).toBe(true);
    expect((await stack.readSummary(store, started.runId)).rejectedByCode).toEqual({ E_CATALOG_ROW: 2100 });
  });
});
