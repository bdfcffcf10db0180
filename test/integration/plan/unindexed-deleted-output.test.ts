import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRetryRun } from '../../../src/lanes/start-retry-run.js';
import { silentLogger } from '../../../src/logging/create-logger.js';
import type { ManifestItemLine, ManifestLine } from '../../../src/manifest/manifest-line.js';
import { startBunchStack, type BunchStack } from '../../helpers/bunch-stack.js';
import { paidCalls } from '../../helpers/paid-calls.js';

const items = (manifest: ManifestLine[]) => manifest.filter((line): line is ManifestItemLine => line.status !== 'rejected');

/**
 * An item made by a retry run is not in the job's stored-output index (a retry never moves the
 * pointer). On the next night the lookup trusts its marker alone (stored-output-lookup.ts:137-141,
 * readMarker, no HEAD): its deleted image is never made again, and the manifest names a missing object.
 */
describe('an output the index does not know (made by a retry) is deleted', () => {
  let stack: BunchStack;
  beforeAll(async () => {
    stack = await startBunchStack({ concurrency: 4 });
    await stack.startWorkers();
  });
  afterAll(async () => stack?.stop());

  it('is made again on the next night, not skipped', async () => {
    const csv = ['sku,title', 'A1,Bowl', 'A2,Plate [[emu:fail-first=3:503]]', 'A3,Cup'].join('\n');
    const jobFile = await stack.writeJob({ catalogCsv: csv });
    const first = await stack.start(jobFile);
    expect((await stack.waitForRun(first.runId)).counts).toMatchObject({ succeeded: 2, failed: 1 });
    const retry = await startRetryRun({ runs: stack.plane.runs, queues: stack.plane.queues, openStore: stack.storeFor, logger: silentLogger() }, first.runId);
    if (!('runId' in retry)) throw new Error('nothing retried');
    expect((await stack.waitForRun(retry.runId)).counts).toMatchObject({ succeeded: 1 });
    const store = stack.storeFor(first.outputUrl);
    const retried = items(await stack.readManifest(store, retry.runId)).find((l) => l.key === 'A2')!;
    expect(retried.status).toBe('succeeded');
    await store.delete(retried.image!.key);

    const paidBefore = paidCalls(stack.emulator);
    const night2 = await stack.start(jobFile);
    const meta = await stack.waitForRun(night2.runId);
    const line = items(await stack.readManifest(store, night2.runId)).find((l) => l.key === 'A2')!;
    expect(await store.head(line.image!.key), `manifest line ${line.status} names ${line.image!.key}`).toBeDefined();
    expect(meta.counts).toEqual({ succeeded: 1, failed: 0, skipped: 2, cancelled: 0 });
    expect(paidCalls(stack.emulator)).toBe(paidBefore + 1);
  });
});
