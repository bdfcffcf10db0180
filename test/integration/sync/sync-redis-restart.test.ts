import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { followRun } from '../../../src/cli/follow-run.js';
import { requestFinalize } from '../../../src/lanes/run-queues.js';
import { productCsv, startBunchStack, type BunchStack } from '../../helpers/bunch-stack.js';

/**
 * A drill with real processes: Redis (AOF on, as production runs it) is killed mid-run and back
 * two seconds later. The workers finish the run; the operator's (or cron's) `--wait` must not
 * report a failure for a run that succeeded.
 */
describe('Redis restarting while a run is followed', () => {
  let stack: BunchStack;
  beforeAll(async () => {
    stack = await startBunchStack({ durableRedis: true, concurrency: 4 });
    stack.emulator.setKnobs({ latency: { kind: 'fixed', ms: 150 } });
    await stack.startWorkers();
  });
  afterAll(async () => stack?.stop());

  it('following rides out the outage and reports the run as it ended', async () => {
    const started = await stack.start(await stack.writeJob({ catalogCsv: productCsv(40) }));
    const troubles: number[] = [];
    const following = followRun(stack.plane.runs, started.runId, {
      intervalMs: 100,
      requestFinalize: (id) => requestFinalize(stack.plane.queues.finalize, id),
      onRedisTrouble: (_error, downForMs) => troubles.push(downForMs),
    });
    following.catch(() => undefined);
    while (((await stack.plane.runs.getMeta(started.runId))?.terminal ?? 0) < 4) await new Promise((resolve) => setTimeout(resolve, 50));

    await stack.redis.crashAndRestart!(2000);

    const meta = await following;
    expect(meta.status).toBe('succeeded');
    expect(meta.counts).toEqual({ succeeded: 40, failed: 0, skipped: 0, cancelled: 0 });
    // It did see the outage (and waited through it), rather than missing it.
    expect(troubles.length).toBeGreaterThan(0);
    expect(stack.emulator.requestLog.count({ route: 'generateContent', status: 200 })).toBeGreaterThanOrEqual(40);
  });
});
