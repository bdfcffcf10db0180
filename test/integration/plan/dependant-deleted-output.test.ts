import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ManifestItemLine, ManifestLine } from '../../../src/manifest/manifest-line.js';
import { startBunchStack, type BunchStack } from '../../helpers/bunch-stack.js';
import { paidCalls } from '../../helpers/paid-calls.js';

const items = (manifest: ManifestLine[]) => manifest.filter((line): line is ManifestItemLine => line.status !== 'rejected');

/**
 * "A deleted output is regenerated": the planner checks a hero's outputs against storage
 * (stored-output-lookup.ts), but a `from:` variant whose own image was deleted is recorded
 * skipped from its marker alone (release-dependants.ts readStoredOutput), pointing at nothing.
 */
describe('a dependant variant whose stored image was deleted', () => {
  let stack: BunchStack;
  beforeAll(async () => {
    stack = await startBunchStack({ concurrency: 4 });
    await stack.startWorkers();
  });
  afterAll(async () => stack?.stop());

  const variants = [
    { name: 'main', prompt: 'Hero shot of {{title}}' },
    { name: 'story', from: 'main', aspectRatio: '9:16', prompt: 'The same scene as a 9:16 story' },
  ];

  it('is made again on the next night, not skipped with a missing image', async () => {
    const csv = ['sku,title', 'R1,Bowl', 'R2,Plate'].join('\n');
    const jobFile = await stack.writeJob({ catalogCsv: csv, job: { variants } });
    const first = await stack.start(jobFile);
    expect((await stack.waitForRun(first.runId)).counts).toMatchObject({ succeeded: 4 });
    const store = stack.storeFor(first.outputUrl);
    const story = items(await stack.readManifest(store, first.runId)).find((l) => l.key === 'R1' && l.variant === 'story')!;
    await store.delete(story.image!.key);

    const paidBefore = paidCalls(stack.emulator);
    const second = await stack.start(jobFile);
    const meta = await stack.waitForRun(second.runId);
    const line = items(await stack.readManifest(store, second.runId)).find((l) => l.key === 'R1' && l.variant === 'story')!;
    // Whatever the manifest says is stored must be there.
    expect(await store.head(line.image!.key), `manifest line ${line.status} names ${line.image!.key}`).toBeDefined();
    expect(line.status).toBe('succeeded');
    expect(meta.counts).toEqual({ succeeded: 1, failed: 0, skipped: 3, cancelled: 0 });
    expect(paidCalls(stack.emulator)).toBe(paidBefore + 1);
  });
});
