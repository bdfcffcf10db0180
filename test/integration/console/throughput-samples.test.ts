import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ThroughputSource } from '../../../src/console/throughput-source.js';
import { productCsv, startBunchStack, type BunchStack } from '../../helpers/bunch-stack.js';

/**
 * The console samples running runs for their throughput charts. A run that ends lets go of its
 * samples at the next look, whether or not anyone opened its page (before: only a viewer of the
 * finished run's page freed them, and each run that finished unseen kept its points for good).
 */
describe('throughput samples of the console', () => {
  let stack: BunchStack;
  beforeAll(async () => {
    stack = await startBunchStack({ concurrency: 2 });
  });
  afterAll(async () => stack?.stop());

  it('holds samples while a run goes and drops them once it has ended, unseen', async () => {
    const source = new ThroughputSource(stack.plane.runs, stack.storeFor);
    const started = await stack.start(await stack.writeJob({ catalogCsv: productCsv(2) }));
    await source.sampleActive();
    expect(source.sampledRuns()).toEqual([started.runId]);

    await stack.startWorkers();
    expect((await stack.waitForRun(started.runId)).status).toBe('succeeded');
    await source.sampleActive();
    expect(source.sampledRuns()).toEqual([]);
  });
});
