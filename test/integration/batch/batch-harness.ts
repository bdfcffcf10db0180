import { DelayedError, type Job } from 'bullmq';
import { afterEach, expect } from 'vitest';
import { createGeminiClient } from '../../../src/gemini/gemini-client.js';
import type { BatchProcessorDeps, createBatchProcessor } from '../../../src/lanes/batch/batch-processor.js';
import type { BatchJobData } from '../../../src/lanes/batch/batch-queue.js';
import { RunContextCache } from '../../../src/lanes/run-context-cache.js';
import { silentLogger } from '../../../src/logging/create-logger.js';
import type { EmulatorOptions } from '../../../src/emulator/start-emulator.js';
import type { ManifestItemLine, ManifestLine } from '../../../src/manifest/manifest-line.js';
import { shardStatesOf, type BatchShardState } from '../../../src/lanes/batch/shard-state.js';
import type { RunMeta, RunStore } from '../../../src/runs/run-store.js';
import { productCsv, startBunchStack, type BunchStack } from '../../helpers/bunch-stack.js';

/** Short batch timings: a job file section for the batch lane tests. */
export function batchJob(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    lane: 'batch',
    batch: { deadline: '1h', pollInterval: '40ms', maxRequestsPerBatch: 4, maxConcurrentBatches: 10, onUnfinished: 'sync', ...overrides },
  };
}

export interface FinishedBatchRun {
  meta: RunMeta;
  manifest: ManifestItemLine[];
  shards: BatchShardState[];
}

/** Waits for the run, reads its manifest, and checks invariant 1: every item exactly once. */
export async function finishBatchRun(stack: BunchStack, runId: string, outputUrl: string, expectedItems: number): Promise<FinishedBatchRun> {
  const meta = await stack.waitForRun(runId, 60_000);
  const lines = (await stack.readManifest(stack.storeFor(outputUrl), runId)) as ManifestLine[];
  const manifest = lines.filter((line): line is ManifestItemLine => line.status !== 'rejected');
  expect(manifest).toHaveLength(expectedItems);
  expect(new Set(manifest.map((line) => line.itemKey)).size).toBe(expectedItems);
  const finalMeta = (await stack.plane.runs.getMeta(runId)) as RunMeta;
  return { meta, manifest, shards: shardStatesOf(finalMeta) };
}

/** Successful generations at the emulator, by where they came from (the sync HTTP route or a batch). */
export function paidCalls(stack: BunchStack): { http: number; batch: number } {
  const bySource = stack.emulator.requestLog.stats().generations.bySource;
  return { http: bySource.http ?? 0, batch: bySource.batch ?? 0 };
}

/** Batches the emulator knows, by display name (upstream truth, independent of bunch's state). */
export async function upstreamBatches(stack: BunchStack): Promise<{ name: string; displayName: string; state: string }[]> {
  const response = await fetch(`${stack.emulator.url}/v1beta/batches?pageSize=1000`, {
    headers: { 'x-goog-api-key': stack.emulator.apiKey ?? '' },
  });
  const body = (await response.json()) as { operations?: { name: string; metadata: { displayName: string; state: string } }[] };
  return (body.operations ?? []).map((op) => ({ name: op.name, displayName: op.metadata.displayName, state: op.metadata.state }));
}

/**
 * For a describe block: `open(emulatorOptions)` starts a stack (Redis, emulator, workers) for one
 * test; it is stopped after each test.
 */
export function useBatchStack(): (emulator: EmulatorOptions) => Promise<BunchStack> {
  let stack: BunchStack | undefined;
  afterEach(async () => {
    await stack?.stop();
    stack = undefined;
  });
  return async (emulator) => {
    stack = await startBunchStack({ emulator });
    await stack.startWorkers();
    return stack;
  };
}

/**
 * A batch run of 4 items in one shard under a $10 budget, planned, no workers: what a test needs
 * to drive the shard's processor (or salvage it) by hand. `deps(runs)` builds processor deps on a
 * given RunStore (one with a step replaced, to race something in); `job` is a delivery of the
 * shard's job whose move to delayed (to poll later) does nothing.
 */
export async function plannedBudgetShard(
  open: BunchStack,
  batchOverrides: Record<string, unknown> = {},
  titleOf?: (i: number) => string,
  jobExtras: Record<string, unknown> = {},
) {
  const jobFile = await open.writeJob({ catalogCsv: productCsv(4, titleOf), job: { ...batchJob(batchOverrides), ...jobExtras, budget: { maxUsd: 10 } } });
  const started = await open.start(jobFile);
  const { runs, queues } = open.plane;
  const shard = Object.keys((await runs.getMeta(started.runId))?.shards ?? {})[0];
  if (!shard) throw new Error('the run has no shard');
  const contexts: RunContextCache[] = [];
  const deps = (withRuns: RunStore, client = createGeminiClient({ baseUrl: open.emulator.url, apiKey: open.emulator.apiKey ?? 'unused' })): BatchProcessorDeps => {
    const cache = new RunContextCache(withRuns, (url) => open.storeFor(url));
    contexts.push(cache);
    return { runs: withRuns, contexts: cache, client, generateQueue: queues.generate, batchQueue: queues.batch, logger: silentLogger(), onRunComplete: async () => {} };
  };
  const job = { data: { runId: started.runId, shard }, moveToDelayed: async () => undefined } as unknown as Job<BatchJobData>;
  const runKey = `${open.prefix}:run:{${started.runId}}`;
  return {
    runId: started.runId,
    shard,
    runs,
    deps,
    job,
    runKey,
    /** The run's reserved budget now. */
    reservedUsd: async () => Number((await open.plane.redis.hget(runKey, 'reservedUsd')) ?? 0),
    /** Slots for upstream batches the run holds now. */
    slotsHeld: () => open.plane.redis.scard(`${runKey}:batches`),
    close: async () => {
      for (const cache of contexts) await cache.close();
    },
  };
}

/**
 * Delivers a shard job until a delivery ends it (a poll later throws DelayedError; the next delivery
 * comes 50 ms on). `crashed` lets chosen errors through as a dead delivery's, delivered again at once.
 */
export async function deliverUntilDone(
  processor: ReturnType<typeof createBatchProcessor>,
  job: Job<BatchJobData>,
  crashed?: (error: unknown) => boolean,
): Promise<string | undefined> {
  for (let round = 0; round < 200; round += 1) {
    try {
      return await processor(job, 'delivery');
    } catch (error) {
      if (crashed?.(error)) continue;
      if (!(error instanceof DelayedError)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  return undefined;
}

/** A RunStore whose delivery dies (throws `worker died`) the first time it gives back a collected shard's rest. */
export function dyingAtReleaseRest(runs: RunStore): { runs: RunStore; died: () => number } {
  let died = 0;
  const batches = Object.create(runs.batches, {
    releaseRest: {
      value: async (...args: Parameters<RunStore['batches']['releaseRest']>) => {
        if (died === 0) {
          died += 1;
          throw new Error('worker died');
        }
        return runs.batches.releaseRest(...args);
      },
    },
  }) as RunStore['batches'];
  return { runs: Object.create(runs, { batches: { value: batches } }) as RunStore, died: () => died };
}

/** deliverUntilDone's `crashed` for dyingAtReleaseRest. */
export const diedAtReleaseRest = (error: unknown): boolean => error instanceof Error && error.message === 'worker died';
