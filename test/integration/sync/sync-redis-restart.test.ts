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
    // 40 items at 4 × 400 ms take at least 4 s, so the crash below lands mid-run even on a busy
    // machine. A job whose lock lapsed during the outage is taken back within seconds, not the
    // default half minute (BUNCH_LOCK_DURATION_MS / BUNCH_STALLED_INTERVAL_MS in production).
    stack.emulator.setKnobs({ latency: { kind: 'fixed', ms: 400 } });
    await stack.startWorkers({ lockDurationMs: 5_000, stalledIntervalMs: 2_000 });
  });
  afterAll(async () => stack?.stop());

  it('following rides out the outage and reports the run as it ended', async () => {
    const started = await stack.start(await stack.writeJob({ catalogCsv: productCsv(40) }));
    let settledAt: number | undefined;
    const following = followRun(stack.plane.runs, started.runId, {
      intervalMs: 100,
      requestFinalize: (id) => requestFinalize(stack.plane.queues.finalize, id),
    });
    following.catch(() => undefined).finally(() => (settledAt = Date.now()));
    while (((await stack.plane.runs.getMeta(started.runId))?.terminal ?? 0) < 4) await new Promise((resolve) => setTimeout(resolve, 50));
    // Still following when Redis goes: whatever it returns below, it returned across the outage.
    expect(settledAt).toBeUndefined();

    await stack.redis.crashAndRestart!(2000);

    const meta = await following;
    expect(meta.status).toBe('succeeded');
    expect(meta.counts).toEqual({ succeeded: 40, failed: 0, skipped: 0, cancelled: 0 });
    // Whether a poll failed during the outage (onRedisTrouble) or the client held it until Redis
    // was back depends on where the outage falls in ioredis' reconnect cycle; either is fine here
    // (test/integration/outage drills the first through the CLI).
    expect(stack.emulator.requestLog.count({ route: 'generateContent', status: 200 })).toBeGreaterThanOrEqual(40);
  }, 90_000);
});
