import { afterEach, expect } from 'vitest';
import type { EmulatorOptions } from '../../../src/emulator/start-emulator.js';
import type { ManifestItemLine, ManifestLine } from '../../../src/manifest/manifest-line.js';
import { shardStatesOf, type BatchShardState } from '../../../src/lanes/batch/shard-state.js';
import type { RunMeta } from '../../../src/runs/run-store.js';
import { startBunchStack, type BunchStack } from '../../helpers/bunch-stack.js';

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
