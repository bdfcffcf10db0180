import { afterEach, describe, expect, it } from 'vitest';
import type { ManifestItemLine } from '../../../src/manifest/manifest-line.js';
import { startBunchStack, type BunchStack } from '../../helpers/bunch-stack.js';

let stack: BunchStack | undefined;
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

describe('an image of another size than the model table says', () => {
  it('is kept, paid once, with a warning in the manifest; a near miss (within 5%) carries no warning', async () => {
    stack = await startBunchStack();
    await stack.startWorkers();
    // 512 at 1:1 is 512x512 in the table for this model.
    const csv = ['sku,title', 'A1,"square [[emu:size=512x512]]"', 'A2,"near [[emu:size=500x512]]"', 'A3,"wide [[emu:size=768x512]]"'].join('\n');
    const started = await stack.start(await stack.writeJob({ catalogCsv: csv }));
    const meta = await stack.waitForRun(started.runId);
    expect(meta.counts).toEqual({ succeeded: 3, failed: 0, skipped: 0, cancelled: 0 });
    expect(stack.emulator.requestLog.count({ route: 'generateContent', status: 200 })).toBe(3);
    const manifest = (await stack.readManifest(stack.storeFor(started.outputUrl), started.runId)) as ManifestItemLine[];
    const byKey = (key: string) => manifest.find((line) => line.key === key)!;
    expect(byKey('A1').warnings).toBeUndefined();
    expect(byKey('A2').warnings).toBeUndefined();
    expect([byKey('A2').image?.width, byKey('A2').image?.height]).toEqual([500, 512]);
    expect(byKey('A3').warnings).toEqual(['image is 768x512, expected 512x512: aspect ratio 1.500 instead of 1.000, larger size class (longest side 768 instead of 512)']);
    expect([byKey('A3').image?.width, byKey('A3').image?.height, byKey('A3').attempts]).toEqual([768, 512, 1]);
  });
});
