import { afterEach, describe, expect, it } from 'vitest';
import { BunchError } from '../../../src/errors/bunch-error.js';
import { baseRecord } from '../../../src/outputs/store-item-output.js';
import type { ObjectStore } from '../../../src/storage/object-store.js';
import { openObjectStore } from '../../../src/storage/open-object-store.js';
import { RecordLog } from '../../../src/runs/record-log.js';
import { productCsv, startBunchStack, type BunchStack } from '../../helpers/bunch-stack.js';

let stack: BunchStack | undefined;
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

describe('recovery paths of the sync lane', () => {
  it('a finalize request lost with a dead worker is made again by the next delivery of a finished item', async () => {
    stack = await startBunchStack();
    const s = stack;
    const started = await s.start(await s.writeJob({ catalogCsv: productCsv(3) }));
    expect(started.enqueued).toBe(3);
    // Workers recorded every item and died before requesting finalization: the one caller told
    // "complete" never acted on it. The jobs themselves are redelivered.
    const outcomes = [];
    for (let index = 0; index < 3; index += 1) {
      const record = baseRecord(
        { index, itemKey: `SKU-000${index + 1}#main`, rowKey: `SKU-000${index + 1}`, variant: 'main', rowNumber: index + 2, model: 'm', inputHash: 'h' } as never,
        'sync',
        'succeeded',
        new Date().toISOString(),
      );
      outcomes.push(await s.plane.runs.records.recordTerminal(started.runId, record));
    }
    expect(outcomes.map((o) => o.complete)).toEqual([false, false, true]);
    expect(await s.plane.runs.needsFinalize(started.runId)).toBe(true);

    await s.startWorkers();
    const meta = await s.waitForRun(started.runId);
    expect(meta.status).toBe('succeeded');
    expect(await s.plane.runs.needsFinalize(started.runId)).toBe(false);
    expect(await s.readManifest(s.storeFor(started.outputUrl), started.runId)).toHaveLength(3);
    expect(s.emulator.requestLog.count({ route: 'generateContent' })).toBe(0);
  });

  it('storage failing right after a paid call is retried in process: the model is not called again', async () => {
    stack = await startBunchStack();
    const s = stack;
    let imageWrites = 0;
    // A real local store whose first two image writes fail as an S3 outage would.
    const flaky = (url: string): ObjectStore => {
      const real = openObjectStore(url);
      return Object.assign(Object.create(real) as ObjectStore, {
        put: async (key: string, body: Parameters<ObjectStore['put']>[1], options?: Parameters<ObjectStore['put']>[2]) => {
          if (key.endsWith('.png') && (imageWrites += 1) <= 2) throw new BunchError('E_STORAGE', 'simulated 503 SlowDown');
          return real.put(key, body, options);
        },
      });
    };
    await s.startWorkers({ openStore: flaky });
    const started = await s.start(await s.writeJob({ catalogCsv: productCsv(1) }));
    const meta = await s.waitForRun(started.runId);
    expect(meta.counts.succeeded).toBe(1);
    expect(imageWrites).toBe(3);
    expect(s.emulator.requestLog.stats().generations.total).toBe(1);
    const [line] = await s.readManifest(s.storeFor(started.outputUrl), started.runId);
    expect(line).toMatchObject({ status: 'succeeded', attempts: 1 });
  });

  it('a Redis failure while recording a paid item is retried: the item succeeds with its cost, the model is not called again', async () => {
    stack = await startBunchStack();
    const s = stack;
    await s.startWorkers();
    // The first attempt to record fails as a dropped connection would (after image, caption and
    // marker are stored); the retry must find the marker and record the item with this run's cost.
    const original = RecordLog.prototype.recordTerminal;
    let failures = 0;
    RecordLog.prototype.recordTerminal = async function (this: RecordLog, ...args: Parameters<RecordLog['recordTerminal']>) {
      if (args[1].status === 'succeeded' && failures === 0) {
        failures += 1;
        throw new Error('Connection is closed.');
      }
      return original.apply(this, args);
    };
    try {
      const started = await s.start(await s.writeJob({ catalogCsv: productCsv(1), job: { sync: { attempts: 3, backoff: { initialMs: 20, maxMs: 50, jitter: 0 } } } }));
      const meta = await s.waitForRun(started.runId);
      expect(failures).toBe(1);
      expect(meta.counts).toEqual({ succeeded: 1, failed: 0, skipped: 0, cancelled: 0 });
      expect(meta.costUsd).toBeCloseTo(0.058, 9);
      expect(s.emulator.requestLog.stats().generations.total).toBe(1);
      const [line] = await s.readManifest(s.storeFor(started.outputUrl), started.runId);
      expect(line).toMatchObject({ status: 'succeeded', costUsd: 0.058, attempts: 1 });
      expect((line as { reused?: boolean }).reused).toBeUndefined();
    } finally {
      RecordLog.prototype.recordTerminal = original;
    }
  });

  it('outputs that can never be stored fail the item once, with its cost: the model is not called again', async () => {
    stack = await startBunchStack();
    const s = stack;
    const refusing = (url: string): ObjectStore => {
      const real = openObjectStore(url);
      return Object.assign(Object.create(real) as ObjectStore, {
        put: async (key: string, body: Parameters<ObjectStore['put']>[1], options?: Parameters<ObjectStore['put']>[2]) => {
          if (key.endsWith('.png')) throw new BunchError('E_STORAGE', 'ENAMETOOLONG: name too long', { retryable: false });
          return real.put(key, body, options);
        },
      });
    };
    await s.startWorkers({ openStore: refusing });
    const started = await s.start(await s.writeJob({ catalogCsv: productCsv(1) }));
    const meta = await s.waitForRun(started.runId);
    expect(meta.counts).toEqual({ succeeded: 0, failed: 1, skipped: 0, cancelled: 0 });
    expect(meta.costUsd).toBeCloseTo(0.058, 9);
    expect(s.emulator.requestLog.stats().generations.total).toBe(1);
    const [line] = await s.readManifest(s.storeFor(started.outputUrl), started.runId);
    expect(line).toMatchObject({ status: 'failed', errorCode: 'E_STORAGE', attempts: 1, costUsd: 0.058 });
  });
});
