import { afterEach, describe, expect, it } from 'vitest';
import type { ItemRecord } from '../../../src/runs/item-record.js';
import { openObjectStore } from '../../../src/storage/open-object-store.js';
import type { ObjectStore } from '../../../src/storage/object-store.js';
import { productCsv, startBunchStack, type BunchStack } from '../../helpers/bunch-stack.js';
import { paidCalls } from '../../helpers/paid-calls.js';

/**
 * A delivery reserves its call's budget after it found the item not yet terminal and its outputs
 * not stored. Another record of the item can land in between (an earlier delivery that lost its
 * claim and finished, the sweep): the reservation must then be refused — the item is done, the
 * call would be paid for nothing — and nothing held for it, or a delivery that dies after it
 * leaves the reservation held until the run's meta expires (`reservedUsd` > 0 on a finished run).
 */
let stack: BunchStack | undefined;
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

const CALL_USD = 0.058;

function succeededRecord(index: number, key: string): ItemRecord {
  return {
    index,
    itemKey: `${key}#default`,
    key,
    variant: 'default',
    rowNumber: index + 2,
    status: 'succeeded',
    lane: 'sync',
    inputHash: `h${index}`,
    model: 'gemini-3.1-flash-image-preview',
    costUsd: CALL_USD,
    attempts: 1,
    finishedAt: new Date().toISOString(),
  };
}

describe('a reservation for an item that is already terminal', () => {
  it('is refused and holds nothing, once the item is recorded or the run finalized', async () => {
    stack = await startBunchStack();
    const open = stack;
    const started = await open.start(await open.writeJob({ catalogCsv: productCsv(2), job: { budget: { maxUsd: 10 } } }));
    const { runs } = open.plane;
    const reserved = async () => Number((await open.plane.redis.hget(`${open.prefix}:run:{${started.runId}}`, 'reservedUsd')) ?? 0);
    await runs.records.recordTerminal(started.runId, succeededRecord(0, 'SKU-0001'));
    // Before: 'reserved', and 0.058 held for an item nobody will record again.
    expect(await runs.budget.reserve(started.runId, CALL_USD, 10, 0)).toBe('terminal');
    expect(await reserved()).toBeCloseTo(0, 9);
    // Another item still reserves as before; what it holds goes with its record.
    expect(await runs.budget.reserve(started.runId, CALL_USD, 10, 1)).toBe('reserved');
    expect(await reserved()).toBeCloseTo(CALL_USD, 9);
    expect(await runs.budget.reserve(started.runId, 20, 10, 1)).toBe('over-budget');
    expect(await reserved()).toBeCloseTo(0, 9);
  });

  it('makes the delivery stop without calling the model', async () => {
    stack = await startBunchStack({ concurrency: 1 });
    const open = stack;
    const started = await open.start(await open.writeJob({ catalogCsv: productCsv(3), job: { budget: { maxUsd: 10 } } }));
    let raced = false;
    const first = await open.plane.queues.generate.getJob(`${started.runId}.0`);
    const firstMarker = first?.data.markerKey;
    expect(firstMarker).toMatch(/^_bunch\/results\//);
    // The first delivery of item 0 looks for a stored marker; while it looks, another record of the
    // item lands (as from an earlier delivery that finished after losing its claim).
    const racingStore = (url: string): ObjectStore => {
      const store = openObjectStore(url);
      const view: ObjectStore = Object.create(store) as ObjectStore;
      Object.defineProperty(view, 'existsSync', { value: undefined });
      view.get = async (key: string) => {
        if (!raced && key === firstMarker) {
          raced = true;
          await open.plane.runs.records.recordTerminal(started.runId, { ...succeededRecord(0, 'SKU-0001'), inputHash: first?.data.inputHash ?? '' });
        }
        return store.get(key);
      };
      return view;
    };
    await open.startWorkers({ openStore: racingStore });
    const meta = await open.waitForRun(started.runId);
    expect(raced).toBe(true);
    expect(meta.status).toBe('succeeded');
    // Before: 3 paid calls, one for an item already done (its outputs written over).
    expect(paidCalls(open.emulator)).toBe(2);
    expect(meta.costUsd).toBeCloseTo(3 * CALL_USD, 9);
    expect(Number(await open.plane.redis.hget(`${open.prefix}:run:{${started.runId}}`, 'reservedUsd'))).toBeCloseTo(0, 9);
  });
});
