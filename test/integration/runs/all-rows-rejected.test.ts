import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { productCsv, startBunchStack, type BunchStack } from '../../helpers/bunch-stack.js';

/**
 * A run whose every row was rejected made nothing: it ends `failed`, so a nightly cron exits
 * non-zero. Before: a prompt placeholder naming no column (`{{titel}}`) rejected all five rows one
 * by one and the run ended `succeeded` with no items.
 */
describe('a run whose every row is rejected', () => {
  let stack: BunchStack;
  beforeAll(async () => {
    stack = await startBunchStack({ concurrency: 2 });
    await stack.startWorkers();
  });
  afterAll(async () => stack?.stop());

  it('ends failed, naming the rejected rows', async () => {
    const jobFile = await stack.writeJob({ catalogCsv: productCsv(5), job: { prompt: 'Studio photo of {{titel}}' } });
    const started = await stack.start(jobFile);
    const meta = await stack.waitForRun(started.runId);
    expect(meta.status).toBe('failed');
    const summary = await stack.readSummary(stack.storeFor(started.outputUrl), started.runId);
    expect({ status: summary.status, items: summary.items, rejectedRows: summary.rejectedRows }).toEqual({ status: 'failed', items: 0, rejectedRows: 5 });
  });
});
