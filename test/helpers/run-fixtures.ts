import type { ItemRecord } from '../../src/runs/item-record.js';
import type { RunConfig } from '../../src/runs/run-config.js';

/** A sync run's config for tests of the run store (flat price, short backoffs). */
export function config(runId: string): RunConfig {
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

/** A terminal record of item `index`. */
export function record(index: number, status: ItemRecord['status'] = 'succeeded'): ItemRecord {
  return {
    index,
    itemKey: `K${index}#main`,
    key: `K${index}`,
    variant: 'main',
    rowNumber: index + 1,
    status,
    lane: 'sync',
    inputHash: 'h',
    model: 'm',
    costUsd: status === 'succeeded' ? 0.058 : 0,
    attempts: 1,
    finishedAt: new Date().toISOString(),
  };
}
