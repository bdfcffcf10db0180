import { describe, expect, it } from 'vitest';
import { buildRunSummary, judgeRun } from '../../../src/manifest/run-summary.js';
import type { RunMeta } from '../../../src/runs/run-store.js';

function meta(overrides: Partial<RunMeta> = {}): RunMeta {
  return {
    config: { runId: 'r1', jobName: 'j', model: 'm', maxFailedRatio: 0.02 } as RunMeta['config'],
    status: 'running',
    planned: true,
    total: 100,
    rejected: 2,
    terminal: 100,
    counts: { succeeded: 98, failed: 2, skipped: 0, cancelled: 0 },
    lanes: { sync: 100 },
    errors: { E_UPSTREAM: 2 },
    retries: { E_UPSTREAM: 4 },
    pauses: 0,
    costUsd: 5.684,
    uncertainUsd: 0.134,
    promptTokens: 1000,
    outputTokens: 112000,
    segments: 0,
    startedAt: '2026-11-21T00:00:00.000Z',
    extra: {},
    shards: {},
    ...overrides,
  };
}

describe('judgeRun', () => {
  it('succeeds within the failure threshold and fails beyond it', () => {
    expect(judgeRun(meta())).toBe('succeeded');
    expect(judgeRun(meta({ counts: { succeeded: 97, failed: 3, skipped: 0, cancelled: 0 } }))).toBe('failed');
  });

  it('fails a run whose every row was rejected, and succeeds an empty catalog', () => {
    const none = { succeeded: 0, failed: 0, skipped: 0, cancelled: 0 };
    expect(judgeRun(meta({ total: 0, terminal: 0, rejected: 5, counts: none }))).toBe('failed');
    expect(judgeRun(meta({ total: 0, terminal: 0, rejected: 0, counts: none }))).toBe('succeeded');
    expect(judgeRun(meta({ total: 1, terminal: 1, rejected: 5, counts: { ...none, succeeded: 1 } }))).toBe('succeeded');
  });

  it('reports why a run stopped early', () => {
    expect(judgeRun(meta({ stop: 'E_CANCELLED' }))).toBe('cancelled');
    expect(judgeRun(meta({ stop: 'E_AUTH' }))).toBe('aborted');
    expect(judgeRun(meta({ stop: 'E_BUDGET' }))).toBe('failed');
  });
});

describe('buildRunSummary', () => {
  it('computes ratios, wall time and throughput', () => {
    const summary = buildRunSummary(meta(), 'succeeded', new Date('2026-11-21T00:00:50.000Z'), 'file:///out/runs/r1/manifest.jsonl');
    expect(summary).toEqual({
      schemaVersion: 1,
      runId: 'r1',
      jobName: 'j',
      model: 'm',
      status: 'succeeded',
      items: 100,
      counts: { succeeded: 98, failed: 2, skipped: 0, cancelled: 0 },
      rejectedRows: 2,
      lanes: { sync: 100 },
      errors: { E_UPSTREAM: 2 },
      failedRatio: 0.02,
      maxFailedRatio: 0.02,
      tokens: { prompt: 1000, output: 112000 },
      costUsd: 5.684,
      costUpperBoundUsd: 5.818,
      startedAt: '2026-11-21T00:00:00.000Z',
      finishedAt: '2026-11-21T00:00:50.000Z',
      wallTimeMs: 50_000,
      itemsPerSecond: 2,
      manifest: 'file:///out/runs/r1/manifest.jsonl',
    });
  });
});
