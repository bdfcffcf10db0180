import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adoptOrphanedRuns } from '../../../src/lanes/adopt-orphaned-runs.js';
import { openRunQueues, type RunQueues } from '../../../src/lanes/run-queues.js';
import { silentLogger } from '../../../src/logging/create-logger.js';
import type { RunConfig } from '../../../src/runs/run-config.js';
import { planningRunsKey } from '../../../src/runs/run-keys.js';
import { RunStore } from '../../../src/runs/run-store.js';
import { startRedis, type RedisHandle } from '../../helpers/start-redis.js';

function config(runId: string): RunConfig {
  return {
    runId,
    jobName: 'j',
    jobFile: 'j.yaml',
    model: 'gemini-3.1-flash-image-preview',
    lane: 'sync',
    outputUrl: 'file:///unused',
    wantImage: true,
    wantText: true,
    sync: { timeoutMs: 35_000, attempts: 5, backoff: { initialMs: 1, maxMs: 2, jitter: 0 } },
    batch: { deadlineMs: 1, onUnfinished: 'sync', maxRequestsPerBatch: 1, maxConcurrentBatches: 1, pollIntervalMs: 1 },
    pricing: { usdPerImage: 0.058, batchDiscount: 0.5 },
    maxFailedRatio: 0.02,
    createdAt: new Date().toISOString(),
  };
}

/**
 * The planning runs list and ADOPT_ORPHAN_LUA against a real Redis: which runs a fleet ends, and
 * that a planner which was only slow cannot undo it.
 */
describe('ending the planning of a run whose planner is gone (real Redis)', () => {
  let server: RedisHandle;
  let redis: Redis;
  let runs: RunStore;
  let queues: RunQueues;
  let prefix: string;
  beforeAll(async () => {
    server = await startRedis();
    redis = new Redis(server.url, { maxRetriesPerRequest: null });
    prefix = `t${randomBytes(3).toString('hex')}`;
    runs = new RunStore(redis, prefix);
    queues = openRunQueues(redis, prefix);
  });
  afterAll(async () => {
    await queues?.close();
    redis?.disconnect();
    await server?.stop();
  });

  async function planningRun(name: string, leaseUntil: number | undefined): Promise<string> {
    const runId = `${name}-${randomBytes(3).toString('hex')}`;
    await runs.createRun(config(runId));
    await runs.setStatus(runId, 'running');
    if (leaseUntil !== undefined) await runs.holdPlannerLease(runId, leaseUntil);
    return runId;
  }

  it('adopts only runs whose lease lapsed, with the total and rejected rows their planner noted', async () => {
    const now = Date.now();
    const dead = await planningRun('dead', now - 1);
    await runs.notePlanningProgress(dead, { dispatched: 7, rejectedStored: 1000, rejectedParts: 1 });
    const alive = await planningRun('alive', now + 60_000);
    await runs.notePlanningProgress(alive, { dispatched: 3, rejectedStored: 0, rejectedParts: 0 });
    const planned = await planningRun('planned', now - 1);
    await runs.markPlanned(planned, 2, 0);

    expect(await adoptOrphanedRuns(runs, queues, silentLogger(), now)).toEqual([dead]);

    const ended = await runs.getMeta(dead);
    expect(ended).toMatchObject({ status: 'running', stop: 'E_PLANNER_GONE', planned: true, total: 7, rejected: 1000, terminal: 0 });
    expect(ended?.extra).toMatchObject({ rejectedParts: '1' });
    expect(ended?.extra.planningError).toBe(`planning stopped with its planner, whose lease lapsed before ${new Date(now).toISOString()}; the run ends with the items it had handed out`);
    // The live planner's run is untouched and still listed; the others are off the list.
    expect(await runs.getMeta(alive)).toMatchObject({ planned: false });
    expect((await runs.getMeta(alive))?.stop).toBeUndefined();
    expect((await redis.smembers(planningRunsKey(prefix))).sort()).toEqual([alive]);
  });

  it('a planner that was only slow cannot renew its lease nor change the total once its run was adopted', async () => {
    const now = Date.now();
    const slow = await planningRun('slow', now - 1);
    await runs.notePlanningProgress(slow, { dispatched: 5, rejectedStored: 0, rejectedParts: 0 });
    expect(await runs.adoptOrphan(slow, now, 'gone')).toBe('adopted');
    // A second fleet process looking at the same moment finds nothing left to adopt.
    expect(await runs.adoptOrphan(slow, now, 'gone')).toBe('gone');
    expect(await runs.holdPlannerLease(slow, now + 60_000)).toBe(false);
    expect(await runs.markPlanned(slow, 40, 3)).toBe(false);
    expect(await runs.getMeta(slow)).toMatchObject({ planned: true, total: 5, rejected: 0, stop: 'E_PLANNER_GONE' });
  });

  it('a run whose counted items are all recorded already is ready to finalize at once', async () => {
    const now = Date.now();
    const empty = await planningRun('empty', now - 1);
    expect(await runs.adoptOrphan(empty, now, 'gone')).toBe('complete');
    // Never took a lease (died between its creation and its first renewal): left alone.
    const leaseless = await planningRun('leaseless', undefined);
    expect(await runs.adoptOrphan(leaseless, now, 'gone')).toBe('alive');
  });
});
