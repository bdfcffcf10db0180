import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ManifestItemLine, ManifestLine } from '../../../src/manifest/manifest-line.js';
import { storedIndexObject } from '../../../src/outputs/stored-index-pointer.js';
import type { StoredIndexEntry } from '../../../src/outputs/stored-index-entry.js';
import { productCsv, startBunchStack, type BunchStack } from '../../helpers/bunch-stack.js';
import { paidCalls } from '../../helpers/paid-calls.js';

const items = (manifest: ManifestLine[]) => manifest.filter((line): line is ManifestItemLine => line.status !== 'rejected');

/**
 * "An index that cannot be read whole (cut off, hand-edited, ...) is ignored ... never trusts half
 * an index" (stored-output-lookup.ts:78). On S3 an entry naming an unusable key is simply not
 * listed (the item's marker decides). On a local directory the same entry's key goes to
 * existsSync, whose key check throws E_UNSAFE_KEY: planning breaks off and the whole run aborts.
 */
describe('a hand-edited index entry naming an unsafe output key, on a local directory', () => {
  let stack: BunchStack;
  beforeAll(async () => {
    stack = await startBunchStack({ concurrency: 4 });
    await stack.startWorkers();
  });
  afterAll(async () => stack?.stop());

  it('does not abort the next night: that entry vouches for nothing and its marker decides', async () => {
    const outputUrl = `file://${stack.dir.path}/edited`;
    const jobFile = await stack.writeJob({ catalogCsv: productCsv(4), outputUrl });
    const first = await stack.start(jobFile);
    expect((await stack.waitForRun(first.runId)).counts).toMatchObject({ succeeded: 4 });
    const store = stack.storeFor(outputUrl);
    const body = (await store.get(storedIndexObject(first.runId)))!.toString('utf8');
    const entries = body.split('\n').filter(Boolean).map((line) => JSON.parse(line) as StoredIndexEntry);
    entries[1]!.image!.key = '../outside.png';
    await store.put(storedIndexObject(first.runId), entries.map((entry) => JSON.stringify(entry)).join('\n') + '\n');

    const paidBefore = paidCalls(stack.emulator);
    const second = await stack.start(jobFile).then(
      (started) => ({ started }),
      (error: { code?: string; message?: string }) => ({ error: `${error.code}: ${error.message}` }),
    );
    expect(second).not.toHaveProperty('error');
    if (!('started' in second)) return;
    const meta = await stack.waitForRun(second.started.runId);
    expect(meta.counts).toEqual({ succeeded: 0, failed: 0, skipped: 4, cancelled: 0 });
    expect(items(await stack.readManifest(store, second.started.runId))).toHaveLength(4);
    expect(paidCalls(stack.emulator)).toBe(paidBefore);
  });
});
