import { describe, expect, it } from 'vitest';
import type { RunSummary } from '../../../src/manifest/run-summary.js';
import { runEndedText } from '../../../src/notify/run-ended-text.js';

function summary(overrides: Partial<RunSummary> = {}): RunSummary {
  return {
    schemaVersion: 1,
    runId: 'r-20261203-abc',
    jobName: 'nightly',
    model: 'gemini-3.1-flash-image-preview',
    status: 'succeeded',
    items: 1000,
    counts: { succeeded: 970, failed: 20, skipped: 10, cancelled: 0 },
    rejectedRows: 0,
    lanes: { sync: 990 },
    errors: { E_SAFETY_BLOCKED: 20 },
    failedRatio: 0.02,
    maxFailedRatio: 0.05,
    tokens: { prompt: 1, output: 1 },
    costUsd: 57.123,
    costUpperBoundUsd: 57.2,
    startedAt: '2026-12-03T01:00:00.000Z',
    finishedAt: '2026-12-03T02:00:00.000Z',
    wallTimeMs: 3_600_000,
    itemsPerSecond: 0.278,
    manifest: 's3://b/runs/r-20261203-abc/manifest.jsonl',
    ...overrides,
  };
}

describe('runEndedText', () => {
  it('names the job, the run, its status, the counts and the cost on one line', () => {
    expect(runEndedText(summary())).toBe('bunch: run r-20261203-abc of nightly succeeded: 970 succeeded, 20 failed, 10 skipped, 0 cancelled; $57.12');
  });

  it('mentions rejected rows only when there are some', () => {
    expect(runEndedText(summary({ status: 'failed', rejectedRows: 3, costUsd: 0 }))).toBe(
      'bunch: run r-20261203-abc of nightly failed: 970 succeeded, 20 failed, 10 skipped, 0 cancelled, 3 rejected rows; $0.00',
    );
    expect(runEndedText(summary())).not.toContain('\n');
  });
});
