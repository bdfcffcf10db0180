import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BunchError } from '../../../src/errors/bunch-error.js';
import { FinalizerBusyError, finalizeRun } from '../../../src/manifest/finalize-run.js';
import type { ItemRecord } from '../../../src/runs/item-record.js';
import type { RunConfig } from '../../../src/runs/run-config.js';
import { runKeys, runObjectKeys } from '../../../src/runs/run-keys.js';
import { RunStore } from '../../../src/runs/run-store.js';
import { LocalObjectStore } from '../../../src/storage/local-object-store.js';
import type { ObjectStore } from '../../../src/storage/object-store.js';
import { startRedis, type RedisHandle } from '../../helpers/start-redis.js';
import { tempDir, type TempDir } from '../../helpers/temp-dir.js';

/**
 * Finalize writes a run's manifest from its records, sets the final status and drops the run's
 * per-item state. A finalize job can be delivered twice at once (BullMQ redelivers one it thinks
 * stalled), can die between any two of its steps, and can fail for good (storage down through all
 * its attempts); none of it may lose items from the manifest, leave keys without a TTL, or leave
 * the run waiting forever.
 */
let server: RedisHandle;
let redis: Redis;
let dir: TempDir;
beforeAll(async () => {
  server = await startRedis();
  redis = new Redis(server.url);
  dir = await tempDir('finalize-failure');
});
afterAll(async () => {
  redis?.disconnect();
  await server?.stop();
  await dir?.remove();
});

function config(runId: string, outputUrl: string): RunConfig {
  return {
    runId,
    jobName: 'finalize-failure',
    jobFile: 'job.yaml',
    model: 'gemini-3.1-flash-image-preview',
    lane: 'sync',
    outputUrl,
    wantImage: true,
    wantText: true,
    sync: { timeoutMs: 35_000, attempts: 3, backoff: { initialMs: 1, maxMs: 2, jitter: 0 } },
    batch: { deadlineMs: 1, onUnfinished: 'sync', maxRequestsPerBatch: 1, maxConcurrentBatches: 1, pollIntervalMs: 1 },
    pricing: { usdPerImage: 0.058, batchDiscount: 0.5 },
    maxFailedRatio: 0.02,
    gallery: false,
    createdAt: new Date().toISOString(),
  } as RunConfig;
}

function record(index: number): ItemRecord {
  return {
    index,
    itemKey: `K${index}#main`,
    key: `K${index}`,
    variant: 'main',
    rowNumber: index + 2,
    status: 'succeeded',
    lane: 'sync',
    inputHash: `h${index}`,
    model: 'gemini-3.1-flash-image-preview',
    costUsd: 0.058,
    attempts: 1,
    finishedAt: new Date().toISOString(),
  };
}

/** A run whose `n` items are all recorded: ready to be finalized. */
async function completedRun(n: number) {
  const prefix = `ff${randomBytes(3).toString('hex')}`;
  const runs = new RunStore(redis, prefix, 1000);
  const runId = `run-${randomBytes(3).toString('hex')}`;
  const store = new LocalObjectStore({ root: dir.path });
  await runs.createRun(config(runId, store.url));
  await runs.setStatus(runId, 'running');
  await runs.markPlanned(runId, n, 0);
  for (let i = 0; i < n; i += 1) await runs.records.recordTerminal(runId, record(i));
  return { prefix, runs, runId, store };
}

async function manifestItems(store: ObjectStore, runId: string): Promise<number> {
  const body = await store.get(runObjectKeys(runId).manifest);
  return (body?.toString('utf8') ?? '').split('\n').filter((line) => line.includes('"itemKey"')).length;
}

describe('finalize under failure', () => {
  it('a second finalizer while the first writes the manifest waits its turn, and the manifest keeps every item', async () => {
    const { runs, runId, store } = await completedRun(5);
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    let reachedPut!: () => void;
    const atPut = new Promise<void>((resolve) => (reachedPut = resolve));
    // The first delivery is held while it writes the manifest.
    const held: ObjectStore = Object.assign(Object.create(store) as ObjectStore, {
      put: async (...args: Parameters<ObjectStore['put']>) => {
        if (args[0] === runObjectKeys(runId).manifest) {
          reachedPut();
          await gate;
        }
        return store.put(...args);
      },
    });
    const first = finalizeRun(runs, held, runId);
    await atPut;
    // Before: the second went on (the run was `finalizing`, not final), finished, dropped the
    // records, and the first then rewrote the manifest from nothing: 0 items.
    await expect(finalizeRun(runs, store, runId)).rejects.toBeInstanceOf(FinalizerBusyError);
    open();
    expect((await first)?.counts.succeeded).toBe(5);
    expect(await manifestItems(store, runId)).toBe(5);
    // Its next try finds the run final and leaves it alone.
    expect(await finalizeRun(runs, store, runId)).toBeUndefined();
    expect(await manifestItems(store, runId)).toBe(5);
  });

  it('a finalizer whose lock lapsed and that goes on does not declare the run final under the one that took over', async () => {
    const { prefix, runs, runId, store } = await completedRun(5);
    const objects = runObjectKeys(runId);
    const held = (key: string) => {
      let open!: () => void;
      let reached!: () => void;
      const gate = new Promise<void>((resolve) => (open = resolve));
      const arrived = new Promise<void>((resolve) => (reached = resolve));
      const heldStore: ObjectStore = Object.assign(Object.create(store) as ObjectStore, {
        put: async (...args: Parameters<ObjectStore['put']>) => {
          if (args[0] === key) {
            reached();
            await gate;
          }
          return store.put(...args);
        },
      });
      return { store: heldStore, arrived, open };
    };
    // The first finalizer is frozen while it writes the summary (its manifest is written).
    const frozen = held(objects.summary);
    const first = finalizeRun(runs, frozen.store, runId);
    await frozen.arrived;
    // Its lock lapses (frozen past it, or lost with a failover); a second takes over and is held
    // before it reads the records.
    await redis.del(runKeys(prefix, runId).finalizeLock);
    const taker = held(objects.manifest);
    const second = finalizeRun(runs, taker.store, runId);
    await taker.arrived;
    // The first goes on before a renewal could tell it the lock is gone (before: it set the final
    // status and dropped the records, and the second wrote a manifest of none of the 5 items).
    frozen.open();
    await expect(first).rejects.toBeInstanceOf(FinalizerBusyError);
    taker.open();
    expect((await second)?.counts.succeeded).toBe(5);
    expect(await manifestItems(store, runId)).toBe(5);
    expect((await runs.getControl(runId)).status).toBe('succeeded');
  });

  it('a finalize that failed for good leaves the run asking to be finalized, and a later one finishes it', async () => {
    const { runs, runId, store } = await completedRun(3);
    const broken: ObjectStore = Object.assign(Object.create(store) as ObjectStore, {
      put: async () => {
        throw new BunchError('E_STORAGE', 'storage down', { retryable: true });
      },
    });
    await expect(finalizeRun(runs, broken, runId)).rejects.toThrow(/storage down/);
    expect((await runs.getControl(runId)).status).toBe('finalizing');
    // What a duplicate delivery and `bunch run --wait` ask before requesting finalize again (before: false).
    expect(await runs.needsFinalize(runId)).toBe(true);
    expect((await finalizeRun(runs, store, runId))?.status).toBe('succeeded');
    expect(await runs.needsFinalize(runId)).toBe(false);
    expect(await manifestItems(store, runId)).toBe(3);
  });

  it('a run left final with its item state still there (a finalizer that died between the two, before they were one step): finalize drops it', async () => {
    const { prefix, runs, runId, store } = await completedRun(3);
    // The final status and the item state's release are one script now; a finalizer of an older
    // version could die between them.
    await runs.setStatus(runId, 'succeeded', { finishedAt: new Date().toISOString() });
    expect(await finalizeRun(runs, store, runId)).toBeUndefined();
    const keys = runKeys(prefix, runId);
    // Before: both kept for good (PTTL -1).
    expect(await redis.exists(keys.done, keys.records)).toBe(0);
    expect(await redis.pttl(keys.meta)).toBeGreaterThan(0);
  });
});
