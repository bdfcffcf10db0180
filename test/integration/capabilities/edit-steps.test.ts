import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import type { ManifestItemLine, ManifestLine } from '../../../src/manifest/manifest-line.js';
import { roundUsd } from '../../../src/gemini/usage-cost.js';
import { startBunchStack, productCsv, type BunchStack } from '../../helpers/bunch-stack.js';

const items = (manifest: ManifestLine[]) => manifest.filter((line): line is ManifestItemLine => line.status !== 'rejected');

describe('multi-turn edit steps on the sync lane', () => {
  let stack: BunchStack;
  beforeAll(async () => {
    stack = await startBunchStack({ concurrency: 4 });
    await stack.startWorkers();
  });
  afterAll(async () => stack?.stop());

  it('sends each turn the whole conversation, keeps the last image as the output and each turn\'s usage and cost', async () => {
    const outDir = path.join(stack.dir.path, 'steps-out');
    const jobFile = await stack.writeJob({
      catalogCsv: productCsv(3),
      outputUrl: `file://${outDir}`,
      job: { steps: ['Add a sprig of eucalyptus beside the {{title}}', 'Warmer light'], output: { url: `file://${outDir}`, keepSteps: true } },
    });
    const before = stack.emulator.requestLog.count({ route: 'generateContent', status: 200 });
    const run = await stack.start(jobFile);
    expect((await stack.waitForRun(run.runId)).counts).toEqual({ succeeded: 3, failed: 0, skipped: 0, cancelled: 0 });
    // Three turns per item, nothing more.
    expect(stack.emulator.requestLog.count({ route: 'generateContent', status: 200 }) - before).toBe(9);
    const manifest = items(await stack.readManifest(stack.storeFor(run.outputUrl), run.runId));
    for (const line of manifest) {
      expect(line.steps?.map((step) => step.turn)).toEqual([1, 2, 3]);
      for (const step of line.steps ?? []) {
        expect(step.resumed).toBeUndefined();
        expect(step.usage.promptTokens).toBeGreaterThan(0);
        expect(step.costUsd).toBe(0.058);
      }
      // Each later turn carries more input: the earlier images come back.
      const prompts = (line.steps ?? []).map((step) => step.usage.promptTokens);
      expect(prompts[1]).toBeGreaterThan(prompts[0]!);
      expect(prompts[2]).toBeGreaterThan(prompts[1]!);
      // The delivery paid for all three turns.
      expect(line.costUsd).toBe(roundUsd(3 * 0.058));
      // The first two turns' images are kept beside the output; the turn files are gone.
      expect(line.steps?.[0]?.image?.key).toBe(line.image?.key.replace(/\.png$/, '~step1.png'));
      expect(line.steps?.[1]?.image?.key).toBe(line.image?.key.replace(/\.png$/, '~step2.png'));
      expect(line.steps?.[2]?.image).toBeUndefined();
      expect(existsSync(path.join(outDir, line.steps![0]!.image!.key))).toBe(true);
      expect(existsSync(path.join(outDir, line.image!.key))).toBe(true);
    }
    const leftovers = [];
    for await (const key of stack.storeFor(run.outputUrl).list('_bunch/items/')) leftovers.push(key);
    expect(leftovers.filter((key) => key.includes('/turns/'))).toEqual([]);
  });

  it("keeps step images where no other row's output can be: a row keyed like another's kept step keeps its own image", async () => {
    const outDir = path.join(stack.dir.path, 'steps-collide');
    // Without {{hash}} in the key, row `shoe` is `shoe.png` and row `shoe.step1` is `shoe.step1.png`;
    // the kept image of row `shoe`'s first turn was `shoe.step1.png` too, and one overwrote the other.
    const jobFile = await stack.writeJob({
      catalogCsv: 'sku,title\nshoe,Trail shoe\nshoe.step1,Road shoe\n',
      outputUrl: `file://${outDir}`,
      job: { steps: ['Warmer light'], output: { url: `file://${outDir}`, key: '{{key}}.{{ext}}', keepSteps: true } },
    });
    const run = await stack.start(jobFile);
    expect((await stack.waitForRun(run.runId)).counts).toEqual({ succeeded: 2, failed: 0, skipped: 0, cancelled: 0 });
    const manifest = items(await stack.readManifest(stack.storeFor(run.outputUrl), run.runId));
    const byKey = new Map(manifest.map((line) => [line.key, line]));
    const shoe = byKey.get('shoe');
    const road = byKey.get('shoe.step1');
    // Each file holds the image its line names (before, one of the two sharing a key did not).
    for (const image of [shoe?.image, shoe?.steps?.[0]?.image, road?.image, road?.steps?.[0]?.image]) {
      expect(createHash('sha256').update(await readFile(path.join(outDir, image!.key))).digest('hex')).toBe(image!.sha256);
    }
    expect([shoe?.image?.key, shoe?.steps?.[0]?.image?.key, road?.image?.key, road?.steps?.[0]?.image?.key]).toEqual([
      'shoe.png',
      'shoe~step1.png',
      'shoe.step1.png',
      'shoe.step1~step1.png',
    ]);
  });

  it('retries a failed turn from the last good turn, not from the start', async () => {
    const jobFile = await stack.writeJob({
      catalogCsv: productCsv(2),
      job: { steps: ['Add a sprig of eucalyptus', 'Warmer light [[emu:fail-first=1:503]] {{title}}'] },
    });
    const before = stack.emulator.requestLog.count({ route: 'generateContent' });
    const run = await stack.start(jobFile);
    expect((await stack.waitForRun(run.runId)).counts).toEqual({ succeeded: 2, failed: 0, skipped: 0, cancelled: 0 });
    // Per item: turn 1, turn 2, turn 3 (503), turn 3 again — turns 1 and 2 are read back, not bought again.
    expect(stack.emulator.requestLog.count({ route: 'generateContent' }) - before).toBe(8);
    const manifest = items(await stack.readManifest(stack.storeFor(run.outputUrl), run.runId));
    for (const line of manifest) {
      expect(line.attempts).toBe(2);
      expect(line.steps?.map((step) => [step.turn, step.resumed ?? false])).toEqual([[1, true], [2, true], [3, false]]);
      // This delivery paid for the last turn; the earlier turns were counted when they were paid.
      expect(line.costUsd).toBe(0.058);
    }
    const meta = await stack.waitForRun(run.runId);
    expect(meta.costUsd).toBeCloseTo(2 * 3 * 0.058, 9);
  });
});
