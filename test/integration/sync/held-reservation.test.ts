import { afterEach, describe, expect, it } from 'vitest';
import { productCsv, startBunchStack, type BunchStack } from '../../helpers/bunch-stack.js';

/**
 * A sync call's budget reservation is held for its item (`held:<index>` in the run's meta) and
 * given back by whatever ends the call — its retry, or the item's record — not only by the
 * delivery that made it: a delivery that dies between reserving and recording would otherwise
 * leave the reservation held until the run ends (a false E_BUDGET later under a tight budget), or
 * see it counted beside the cost its redelivery records from the stored marker.
 */
let stack: BunchStack | undefined;
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

/** The emulator's price of one 1K image on the sync lane. */
const CALL_USD = 0.058;

describe('a call reservation held for its item', () => {
  it('left by a delivery that died is given back when the item is done, and the run ends holding nothing', async () => {
    stack = await startBunchStack();
    const open = stack;
    const started = await open.start(await open.writeJob({ catalogCsv: productCsv(3), job: { budget: { maxUsd: 10 } } }));
    // A delivery of item 0 reserved its call and died before it could record or give it back.
    expect(await open.plane.runs.budget.reserve(started.runId, CALL_USD, 10, 0)).toBe('reserved');
    await open.startWorkers();
    const meta = await open.waitForRun(started.runId);
    expect(meta.status).toBe('succeeded');
    expect(meta.costUsd).toBeCloseTo(3 * CALL_USD, 9);
    // Before: 0.058 still reserved after the run.
    expect(Number(await open.plane.redis.hget(`${open.prefix}:run:{${started.runId}}`, 'reservedUsd'))).toBeCloseTo(0, 9);
  });

  it('is replaced by the next delivery\'s, settled once when a call is retried, and given back by the record', async () => {
    stack = await startBunchStack();
    const open = stack;
    const started = await open.start(await open.writeJob({ catalogCsv: productCsv(3), job: { budget: { maxUsd: 10 } } }));
    const { runs } = open.plane;
    const metaKey = `${open.prefix}:run:{${started.runId}}`;
    const reserved = async () => Number((await open.plane.redis.hget(metaKey, 'reservedUsd')) ?? 0);
    // Two deliveries of item 1 reserve in turn (the first died): one reservation held, not two.
    expect(await runs.budget.reserve(started.runId, CALL_USD, 10, 1)).toBe('reserved');
    expect(await runs.budget.reserve(started.runId, CALL_USD, 10, 1)).toBe('reserved');
    expect(await reserved()).toBeCloseTo(CALL_USD, 9);
    // Its call answered unusably and is retried: the reservation becomes the cost, once.
    await runs.budget.settleCall(started.runId, 1, { costUsd: CALL_USD });
    await runs.budget.settleCall(started.runId, 1, { costUsd: 0 });
    expect(await reserved()).toBeCloseTo(0, 9);
    expect(Number(await open.plane.redis.hget(metaKey, 'costUsd'))).toBeCloseTo(CALL_USD, 9);
    // A call whose outcome is unknown: counted as uncertain, the reservation given back.
    expect(await runs.budget.reserve(started.runId, CALL_USD, 10, 2)).toBe('reserved');
    await runs.budget.settleCall(started.runId, 2, { uncertainUsd: CALL_USD });
    expect(await reserved()).toBeCloseTo(0, 9);
    expect(Number(await open.plane.redis.hget(metaKey, 'uncertainUsd'))).toBeCloseTo(CALL_USD, 9);
    // The held field is not part of the run's extras (`status` shows those).
    expect(await runs.budget.reserve(started.runId, CALL_USD, 10, 0)).toBe('reserved');
    expect(Object.keys((await runs.getMeta(started.runId))?.extra ?? {}).filter((name) => name.startsWith('held:'))).toEqual([]);
    // The delivery that reserved died after storing the outputs; its redelivery records the item
    // from the marker (with the cost the marker names): the record gives back what is held.
    await runs.records.recordTerminal(started.runId, {
      index: 0,
      itemKey: 'SKU-0001#default',
      key: 'SKU-0001',
      variant: 'default',
      rowNumber: 2,
      status: 'succeeded',
      lane: 'sync',
      inputHash: 'h0',
      model: 'gemini-3.1-flash-image-preview',
      costUsd: CALL_USD,
      attempts: 1,
      finishedAt: new Date().toISOString(),
    });
    expect(await reserved()).toBeCloseTo(0, 9);
    expect(Number(await open.plane.redis.hget(metaKey, 'costUsd'))).toBeCloseTo(2 * CALL_USD, 9);
  });
});
