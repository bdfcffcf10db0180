import { describe, expect, it } from 'vitest';
import { batchJobId } from '../../../src/lanes/batch/batch-queue.js';
import { generateJobId } from '../../../src/lanes/sync/generate-job-data.js';
import { newRunId } from '../../../src/runs/run-id.js';
import { runIdOfJobId } from '../../../src/workers/sweep-given-up-jobs.js';

describe('runIdOfJobId (the sweep passes over jobs of finished runs by id, unread)', () => {
  it('reads the run back from generate and shard job ids, whatever the job name held', () => {
    for (const name of ['nightly', 'Summer Sale 2026 (EU)', 'a.b.c', '...', 'x'.repeat(80)]) {
      const runId = newRunId(name, new Date('2026-12-04T10:00:00Z'));
      expect(runId).not.toContain('.');
      expect(runIdOfJobId(generateJobId(runId, 41))).toBe(runId);
      expect(runIdOfJobId(batchJobId(runId, 's0007-r1'))).toBe(runId);
    }
  });

  it('names no run for an id of another shape (its job is read instead)', () => {
    expect(runIdOfJobId('42')).toBeUndefined();
    expect(runIdOfJobId('.5')).toBeUndefined();
  });
});
