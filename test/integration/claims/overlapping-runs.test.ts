import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ManifestItemLine } from '../../../src/manifest/manifest-line.js';
import { productCsv, startBunchStack, type BunchStack } from '../../helpers/bunch-stack.js';

let stack: BunchStack | undefined;
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

describe('two overlapping runs of one job (the cron fired again on a slow night)', () => {
  it('pay once per output: the later run waits on the claim and records the item skipped, naming the run that paid', async () => {
    stack = await startBunchStack({ concurrency: 40 });
    stack.emulator.setKnobs({ latency: { kind: 'fixed', ms: 600 } });
    const outputUrl = `file://${path.join(stack.dir.path, 'shared-out')}`;
    const jobFile = await stack.writeJob({ catalogCsv: productCsv(20), outputUrl });
    // Both runs are planned before any worker runs: neither finds a stored output, and all 40 jobs
    // are taken at once, so without a claim every item would be paid twice.
    const first = await stack.start(jobFile);
    const second = await stack.start(jobFile);
    expect([first.enqueued, second.enqueued]).toEqual([20, 20]);
    await stack.startWorkers();
    const [metaA, metaB] = await Promise.all([stack.waitForRun(first.runId, 90_000), stack.waitForRun(second.runId, 90_000)]);

    expect(stack.emulator.requestLog.count({ route: 'generateContent', status: 200 })).toBe(20);
    expect(metaA.counts.failed + metaB.counts.failed).toBe(0);
    const store = stack.storeFor(outputUrl);
    const lines = [
      ...((await stack.readManifest(store, first.runId)) as ManifestItemLine[]).map((line) => ({ run: first.runId, other: second.runId, line })),
      ...((await stack.readManifest(store, second.runId)) as ManifestItemLine[]).map((line) => ({ run: second.runId, other: first.runId, line })),
    ];
    for (const runId of [first.runId, second.runId]) {
      const keys = lines.filter((entry) => entry.run === runId).map((entry) => entry.line.itemKey);
      expect(new Set(keys).size).toBe(20);
      expect(keys).toHaveLength(20);
    }
    // Each output was paid by exactly one of the runs; the other names it.
    const byItem = new Map<string, typeof lines>();
    for (const entry of lines) byItem.set(entry.line.itemKey, [...(byItem.get(entry.line.itemKey) ?? []), entry]);
    for (const entries of byItem.values()) {
      const paid = entries.filter((entry) => entry.line.status === 'succeeded');
      const skipped = entries.filter((entry) => entry.line.status === 'skipped');
      expect(paid).toHaveLength(1);
      expect(skipped).toHaveLength(1);
      expect(skipped[0]!.line).toMatchObject({ reused: true, reusedFrom: paid[0]!.run, costUsd: 0 });
      expect(skipped[0]!.line.image?.sha256).toBe(paid[0]!.line.image?.sha256);
    }
    // The runs' costs add up to 20 calls, whichever run paid for which item.
    const price = lines.find((entry) => entry.line.status === 'succeeded')!.line.costUsd;
    expect(price).toBeGreaterThan(0);
    expect(metaA.costUsd + metaB.costUsd).toBeCloseTo(20 * price, 9);
  });
});
