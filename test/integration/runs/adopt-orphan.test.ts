import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adoptOrphanedRuns } from '../../../src/lanes/adopt-orphaned-runs.js';
import { openRunQueues, type RunQueues } from '../../../src/lanes/run-queues.js';
import { silentLogger } from '../../../src/logging/create-logger.js';
import { planningRunsKey } from '../../../src/runs/run-keys.js';
import { RunStore } from '../../../src/runs/run-store.js';
import { config, record } from '../../helpers/run-fixtures.js';
import { startRedis, type RedisHandle } from '../../helpers/start-redis.js';

/**
 * The planning runs list, ADOPT_ORPHAN_LUA and SETTLE_ADOPTED_LUA against a real Redis: which
 * runs a fleet takes over, when it settles their total, and that a planner which was only slow
 * cannot undo it.
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

  async function planningRun(name: string, leaseUntil: number): Promise<string> {
    const runId = `${name}-${randomBytes(3).toString('hex')}`;
    await runs.createRun(config(runId), leaseUntil);
    await runs.setStatus(runId, 'running');
    return runId;
  }

  const adopt = (nowMs: number, quietMs = 0) => adoptOrphanedRuns(redis, runs, queues, silentLogger(), { nowMs, quietMs });

  it('adopts only runs whose lease lapsed, and settles their total at what was recorded once no work is left', async () => {
    const now = Date.now();
    const dead = await planningRun('dead', now - 1);
    await runs.noteRejectedParts(dead, 1000, 1);
    await runs.records.recordTerminal(dead, record(0));
    const alive = await planningRun('alive', now + 3_600_000);
    const planned = await planningRun('planned', now - 1);
    await runs.markPlanned(planned, 2, 0);

    // The first look adopts it and finds nothing left: quiet since now; settled once quiet long enough.
    expect(await adopt(now, 1000)).toEqual([]);
    expect(await runs.getMeta(dead)).toMatchObject({ status: 'running', stop: 'E_PLANNER_GONE', planned: false });
    expect(await adopt(now + 999, 1000)).toEqual([]);
    expect(await adopt(now + 1000, 1000)).toEqual([dead]);

    const ended = await runs.getMeta(dead);
    expect(ended).toMatchObject({ stop: 'E_PLANNER_GONE', planned: true, total: 1, terminal: 1, rejected: 1000 });
    expect(ended?.extra).toMatchObject({ rejectedParts: '1' });
    expect(ended?.extra.planningError).toBe(`planning stopped with its planner, whose lease lapsed before ${new Date(now).toISOString()}; the run ends with the items it had handed out`);
    // The live planner's run is untouched and still listed; the others are off the list.
    expect(await runs.getMeta(alive)).toMatchObject({ planned: false });
    expect((await runs.getMeta(alive))?.stop).toBeUndefined();
    expect((await redis.smembers(planningRunsKey(prefix))).sort()).toEqual([alive]);
  });

  it('is not settled while a job of the run waits in the queue, and the quiet time starts over when work shows up', async () => {
    const now = Date.now();
    const busy = await planningRun('busy', now - 1);
    expect(await adopt(now)).toEqual([busy]);
    const waiting = await planningRun('waiting', now - 1);
    await queues.generate.add('generate', { runId: waiting } as never, { jobId: `${waiting}.0` });
    expect(await adopt(now, 0)).toEqual([]);
    expect(await adopt(now + 60_000, 0)).toEqual([]);
    expect(await runs.getMeta(waiting)).toMatchObject({ planned: false, stop: 'E_PLANNER_GONE' });
    await queues.generate.remove(`${waiting}.0`);
    expect(await adopt(now + 60_001, 1000)).toEqual([]);
    expect(await adopt(now + 61_001, 1000)).toEqual([waiting]);
    expect(await runs.getMeta(waiting)).toMatchObject({ planned: true, total: 0 });
  });

  it('a planner that was only slow cannot renew its lease nor mark the run planned once it was adopted', async () => {
    const now = Date.now();
    const slow = await planningRun('slow', now - 1);
    expect(await runs.adoptOrphan(slow, now, 'gone')).toBe('adopted');
    // A second fleet process looking at the same moment finds it adopted already.
    expect(await runs.adoptOrphan(slow, now, 'gone')).toBe('settling');
    expect(await runs.holdPlannerLease(slow, now + 60_000)).toBe(false);
    expect(await runs.markPlanned(slow, 40, 3)).toBe('taken-over');
    expect(await runs.getMeta(slow)).toMatchObject({ planned: false, stop: 'E_PLANNER_GONE' });
    expect(await runs.settleAdopted(slow)).toBe(true);
    expect(await runs.getMeta(slow)).toMatchObject({ planned: true, total: 0, rejected: 0 });
    expect(await runs.settleAdopted(slow)).toBe(false);
  });

  it('a run created with a lease that lapsed before any renewal is adopted, in status planning too', async () => {
    const now = Date.now();
    const runId = `early-${randomBytes(3).toString('hex')}`;
    await runs.createRun(config(runId), now - 1);
    expect(await runs.adoptOrphan(runId, now, 'gone')).toBe('adopted');
    expect(await runs.getMeta(runId)).toMatchObject({ status: 'running', stop: 'E_PLANNER_GONE' });
    // Created without a lease (not by a planner): never adopted.
    const leaseless = `leaseless-${randomBytes(3).toString('hex')}`;
    await runs.createRun(config(leaseless));
    expect(await runs.adoptOrphan(leaseless, now, 'gone')).toBe('alive');
  });
});
