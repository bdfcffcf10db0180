import { describe, expect, it } from 'vitest';
import { mayBeRunOf, newRunId } from '../../../src/runs/run-id.js';

describe('mayBeRunOf (the overlap check reads the meta only of runs shaped like the job\'s)', () => {
  it("knows a job's own run ids, whatever its name holds", () => {
    for (const name of ['nightly', 'Summer Sale 2026 (EU)', '...', 'x'.repeat(80)]) {
      expect(mayBeRunOf(newRunId(name), name)).toBe(true);
    }
  });

  it("passes over another job's ids, a longer name sharing the prefix included", () => {
    expect(mayBeRunOf(newRunId('nightly-eu'), 'nightly')).toBe(false);
    expect(mayBeRunOf(newRunId('nightly'), 'nightly-eu')).toBe(false);
    expect(mayBeRunOf('nightly', 'nightly')).toBe(false);
  });
});
