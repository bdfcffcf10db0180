import { afterEach, describe, expect, it } from 'vitest';
import { createBatchProcessor, type BatchProcessorDeps } from '../../../src/lanes/batch/batch-processor.js';
import { finalizeRun } from '../../../src/manifest/finalize-run.js';
import { readShardState, reserveShardBudget, settleShardState } from '../../../src/lanes/batch/shard-state.js';
import type { ItemRecord } from '../../../src/runs/item-record.js';
import type { RunStore } from '../../../src/runs/run-store.js';
import { startBunchStack, type BunchStack } from '../../helpers/bunch-stack.js';
import { deliverUntilDone, diedAtReleaseRest, dyingAtReleaseRest, plannedBudgetShard } from './batch-harness.js';

/**
 * A batch shard reserves its items' budget before its batch is created, and its items' real costs
 * are recorded one by one as its result file is collected. Each item's first record gives back the
 * item's share of the reservation in the same step: otherwise, while a big batch is collected, the
 * budget counts every recorded item twice (reserved with its shard, and spent), and a shard or a
 * sync item reserving meanwhile stops the run with a false E_BUDGET.
 */
let stack: BunchStack | undefined;
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

/** 4 items at the batch price of the emulator's pricing: what one shard reserves; a quarter an item. */
const SHARD_USD = 0.116;
const SHARE_USD = SHARD_USD / 4;
/** plannedBudgetShard's budget.maxUsd. */
const BUDGET_USD = 10;

/** Deps whose generate queue calls `before` ahead of every enqueue (items spilled to the sync lane). */
function spillingThrough(base: BatchProcessorDeps, before: () => Promise<void>): BatchProcessorDeps {
  const generateQueue = Object.create(base.generateQueue, {
    addBulk: {
      value: async (...args: Parameters<typeof base.generateQueue.addBulk>) => {
        await before();
        return base.generateQueue.addBulk(...args);
      },
    },
  }) as typeof base.generateQueue;
  return { ...base, generateQueue };
}

/** A RunStore whose item records call `after` once each has been made. */
function recordingThrough(runs: RunStore, after: () => Promise<void>): RunStore {
  const wrap = (name: 'recordTerminal' | 'recordShardItem') => ({
    value: async (...args: unknown[]) => {
      const outcome = await (runs.records[name] as (...a: unknown[]) => Promise<unknown>).apply(runs.records, args);
      await after();
      return outcome;
    },
  });
  const records = Object.create(runs.records, { recordTerminal: wrap('recordTerminal'), recordShardItem: wrap('recordShardItem') }) as RunStore['records'];
  return Object.create(runs, { records: { value: records } }) as RunStore;
}

function itemRecord(index: number, costUsd: number): ItemRecord {
  return {
    index,
    itemKey: `SKU-${index}`,
    key: `SKU-${index}`,
    variant: 'default',
    rowNumber: index + 2,
    status: 'succeeded',
    lane: 'batch',
    inputHash: `hash-${index}`,
    model: 'gemini-3.1-flash-image-preview',
    costUsd,
    attempts: 1,
    finishedAt: new Date().toISOString(),
  };
}

describe('a collected item gives back its share of its shard reservation', () => {
  it('while a batch is collected, the budget never counts an item both reserved and spent', async () => {
    stack = await startBunchStack({ emulator: { profile: { batch: { pendingMs: 20, runningMs: 100 } } } });
    const open = stack;
    const { runId, shard, runs, deps, job, runKey, reservedUsd, close } = await plannedBudgetShard(open);
    const seen: { recorded: number; reservedUsd: number }[] = [];
    const after = async () => {
      // One consistent look: what is reserved, against how many items are recorded.
      const replies = (await open.plane.redis.multi().hget(runKey, 'reservedUsd').bitcount(`${runKey}:done`).exec()) ?? [];
      const [reserved = 0, recorded = 0] = replies.map(([, value]) => Number(value ?? 0));
      seen.push({ recorded, reservedUsd: reserved });
    };
    const processor = createBatchProcessor(deps(recordingThrough(runs, after)));
    expect(await deliverUntilDone(processor, job)).toBe('collected');

    expect(seen).toHaveLength(4);
    for (const look of seen) {
      // Held for the items not recorded yet, and no more (before: all of it until the shard settled).
      expect(look.reservedUsd).toBeCloseTo(SHARD_USD - look.recorded * SHARE_USD, 9);
    }
    expect(Math.max(...seen.map((look) => look.recorded))).toBe(4);
    // Settled: nothing left reserved, every item's real cost spent once.
    const state = await readShardState(runs, runId, shard);
    expect(state).toMatchObject({ phase: 'done', outcome: { succeeded: 4 } });
    expect(await reservedUsd()).toBeCloseTo(0, 9);
    expect(Number(await open.plane.redis.hget(runKey, 'costUsd'))).toBeGreaterThan(0);
    expect(await open.plane.redis.hlen(`${runKey}:shard-released`)).toBe(0);
    await close();
  });

  it('what a collected shard still holds is given back before its unserved items move on to a new shard', async () => {
    stack = await startBunchStack({ emulator: { profile: { batch: { pendingMs: 20, runningMs: 60, outcome: 'expired' } } } });
    const open = stack;
    const { runId, shard, runs, deps, job, reservedUsd, close } = await plannedBudgetShard(open, { onUnfinished: 'batch' });
    const base = deps(runs);
    // What the run holds reserved when the resubmission is handed to the batch queue.
    const heldAtHandOver: number[] = [];
    const batchQueue = Object.create(base.batchQueue, {
      add: {
        value: async (...args: Parameters<typeof base.batchQueue.add>) => {
          heldAtHandOver.push(await reservedUsd());
          return base.batchQueue.add(...args);
        },
      },
    }) as typeof base.batchQueue;
    const processor = createBatchProcessor({ ...base, batchQueue });
    expect(await deliverUntilDone(processor, job)).toBe('collected');
    // The batch expired unserved: nothing was billed, and the new shard reserves its own.
    expect(heldAtHandOver).toHaveLength(1);
    expect(heldAtHandOver[0]).toBeCloseTo(0, 9);
    expect(await readShardState(runs, runId, shard)).toMatchObject({ phase: 'done', upstreamState: 'EXPIRED', outcome: { resubmitted: 4 } });
    expect(await readShardState(runs, runId, `${shard}-r1`)).toMatchObject({ phase: 'planned', items: 4 });
    // Settling gave back nothing more: the run holds nothing for the finished shard.
    expect(await reservedUsd()).toBeCloseTo(0, 9);
    await close();
  });

  it('a shard that served some items and not others: shares for the served, the rest before the others spill to sync', async () => {
    stack = await startBunchStack({ emulator: { profile: { batch: { pendingMs: 20, runningMs: 100 } } } });
    const open = stack;
    const titles = ['plain one', 'flaky [[emu:fail-first=1:503]]', 'garbled [[emu:bad-base64]]', 'plain two'];
    const { runId, shard, runs, deps, job, runKey, reservedUsd, close } = await plannedBudgetShard(open, {}, (i) => titles[i - 1] as string);
    const heldAtSpill: number[] = [];
    const processor = createBatchProcessor(spillingThrough(deps(runs), async () => void heldAtSpill.push(await reservedUsd())));
    expect(await deliverUntilDone(processor, job)).toBe('collected');
    // Three answers recorded (one of them billed and unusable), one unserved spilled: nothing held
    // for it when it reaches the sync lane, where it reserves its own (before: 0.029).
    expect(heldAtSpill).toHaveLength(1);
    expect(heldAtSpill[0]).toBeCloseTo(0, 9);
    expect(await readShardState(runs, runId, shard)).toMatchObject({ phase: 'done', outcome: { succeeded: 2, failed: 1, spilled: 1 } });
    expect(await reservedUsd()).toBeCloseTo(0, 9);
    expect(Number(await open.plane.redis.hget(runKey, 'costUsd'))).toBeCloseTo(3 * SHARE_USD, 9);
    await close();
  });

  it('a shard salvaged whole gives back what it holds before its items spill to sync', async () => {
    stack = await startBunchStack({ emulator: { profile: { batch: { pendingMs: 60_000, runningMs: 60_000 } } } });
    const { runId, shard, runs, deps, job, reservedUsd, close } = await plannedBudgetShard(stack);
    const planned = await readShardState(runs, runId, shard);
    if (!planned) throw new Error('no shard state');
    expect(await reserveShardBudget(runs, runId, planned, SHARD_USD, BUDGET_USD)).toBe('reserved');
    const heldAtSpill: number[] = [];
    // Its delivery comes back past the run's batch cutoff: no batch is created, the items go to sync.
    const late = { ...spillingThrough(deps(runs), async () => void heldAtSpill.push(await reservedUsd())), now: () => Date.now() + 10 * 3600_000 };
    expect(await deliverUntilDone(createBatchProcessor(late), job)).toBe('salvaged');
    expect(heldAtSpill).toHaveLength(1);
    expect(heldAtSpill[0]).toBeCloseTo(0, 9);
    expect(await readShardState(runs, runId, shard)).toMatchObject({ phase: 'done', outcome: { spilled: 4 } });
    expect(await reservedUsd()).toBeCloseTo(0, 9);
    await close();
  });

  it('a run finalized before its last shard settles: the shard gives back only what its items did not', async () => {
    stack = await startBunchStack({ emulator: { profile: { batch: { pendingMs: 20, runningMs: 100 } } } });
    const open = stack;
    const { runId, shard, runs, deps, job, runKey, reservedUsd, close } = await plannedBudgetShard(open);
    const base = deps(runs);
    // A finalize worker at hand: the last record finalizes the run before its shard settles.
    const finalizing = { ...base, onRunComplete: async (id: string) => void (await finalizeRun(runs, (await base.contexts.get(id)).store, id)) };
    expect(await deliverUntilDone(createBatchProcessor(finalizing), job)).toBe('collected');
    expect((await runs.getMeta(runId))?.status).toBe('succeeded');
    expect(await readShardState(runs, runId, shard)).toMatchObject({ phase: 'done' });
    // Before: the ledger went with the run's item state and the shard gave all of it back again (-0.116).
    expect(await reservedUsd()).toBeCloseTo(0, 9);
    // Nothing is left behind without a TTL.
    expect(await open.plane.redis.ttl(`${runKey}:shard-released`)).not.toBe(-1);
    await close();
  });

  it('a shard job delivered again after its run was finalized counts nothing twice and brings back no state', async () => {
    stack = await startBunchStack({ emulator: { profile: { batch: { pendingMs: 20, runningMs: 100 } } } });
    const open = stack;
    const { runId, runs, deps, job, runKey, reservedUsd, close } = await plannedBudgetShard(open);
    // The delivery dies right after its last record finalized the run, before the shard settles.
    const dying = dyingAtReleaseRest(runs);
    const base = deps(dying.runs);
    const finalizing = { ...base, onRunComplete: async (id: string) => void (await finalizeRun(runs, (await base.contexts.get(id)).store, id)) };
    expect(await deliverUntilDone(createBatchProcessor(finalizing), job, diedAtReleaseRest)).toBe('collected');
    expect(dying.died()).toBe(1);
    const meta = await open.plane.redis.hgetall(runKey);
    // Before: the redelivery found no `done` bitmap and recorded all four again (terminal 8, cost doubled).
    expect(meta).toMatchObject({ status: 'succeeded', terminal: '4', 'n:succeeded': '4' });
    expect(Number(meta.costUsd)).toBeCloseTo(4 * SHARE_USD, 9);
    expect(await reservedUsd()).toBeCloseTo(0, 9);
    expect(await open.plane.redis.exists(`${runKey}:done`, `${runKey}:records`)).toBe(0);
    await close();
  });

  it('a duplicate record gives nothing back twice, a share never goes past what the shard holds, and settling gives back the rest', async () => {
    stack = await startBunchStack({ emulator: { profile: { batch: { pendingMs: 60_000, runningMs: 60_000 } } } });
    const { runId, shard, runs, reservedUsd, close } = await plannedBudgetShard(stack);
    const planned = await readShardState(runs, runId, shard);
    if (!planned) throw new Error('no shard state');
    expect(await reserveShardBudget(runs, runId, planned, SHARD_USD, BUDGET_USD)).toBe('reserved');
    const share = { shard, amountUsd: SHARE_USD };

    expect((await runs.records.recordShardItem(runId, itemRecord(0, 0.02), share)).recorded).toBe(true);
    expect((await runs.records.recordShardItem(runId, itemRecord(0, 0.02), share)).recorded).toBe(false);
    expect(await reservedUsd()).toBeCloseTo(SHARD_USD - SHARE_USD, 9);
    // A share asked for beyond what is left gives back only what is left.
    expect((await runs.records.recordShardItem(runId, itemRecord(1, 0.02), { shard, amountUsd: 1 })).recorded).toBe(true);
    expect(await reservedUsd()).toBeCloseTo(0, 9);

    const reserved = await readShardState(runs, runId, shard);
    if (!reserved) throw new Error('no shard state');
    // Settled with a final state that still names the reservation: only `done` keeps the next record from giving back a share.
    expect(await runs.batches.settle(runId, shard, JSON.stringify({ ...reserved, phase: 'done' }))).toBeDefined();
    expect(await reservedUsd()).toBeCloseTo(0, 9);
    // After the shard is settled its items give nothing back (it gave back all it held).
    expect((await runs.records.recordShardItem(runId, itemRecord(2, 0.02), share)).recorded).toBe(true);
    expect(await reservedUsd()).toBeCloseTo(0, 9);
    expect(Number(await stack.plane.redis.hget(`${stack.prefix}:run:{${runId}}`, 'costUsd'))).toBeCloseTo(0.06, 9);
    await close();
  });

  it('settling a shard whose items gave back part of it gives back exactly the rest', async () => {
    stack = await startBunchStack({ emulator: { profile: { batch: { pendingMs: 60_000, runningMs: 60_000 } } } });
    const { runId, shard, runs, reservedUsd, close } = await plannedBudgetShard(stack);
    const planned = await readShardState(runs, runId, shard);
    if (!planned) throw new Error('no shard state');
    expect(await reserveShardBudget(runs, runId, planned, SHARD_USD, BUDGET_USD)).toBe('reserved');
    // Another run's reservation on the same meta would hide an over-release: hold one of our own.
    expect(await runs.budget.reserve(runId, 1, BUDGET_USD, 99)).toBe('reserved');
    await runs.records.recordShardItem(runId, itemRecord(0, 0.02), { shard, amountUsd: SHARE_USD });
    await runs.records.recordShardItem(runId, itemRecord(1, 0.02), { shard, amountUsd: SHARE_USD });
    const reserved = await readShardState(runs, runId, shard);
    if (!reserved) throw new Error('no shard state');
    expect(await settleShardState(runs, runId, { ...reserved, phase: 'done' })).toBeDefined();
    expect(await reservedUsd()).toBeCloseTo(1, 9);
    await close();
  });
});
