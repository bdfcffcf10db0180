import { describe, expect, it } from 'vitest';
import { retryBackoffMs } from '../../../src/lanes/sync/retry-backoff.js';

const backoff = { initialMs: 1000, maxMs: 8000, jitter: 0.5 };

describe('retryBackoffMs', () => {
  it('uses the wait the upstream asked for, capped at ten minutes', () => {
    expect(retryBackoffMs(1, backoff, 47_000, () => 0.5)).toBe(47_000);
    expect(retryBackoffMs(1, backoff, 3_600_000, () => 0.5)).toBe(600_000);
  });

  it('grows exponentially from initialMs up to maxMs', () => {
    const noJitter = { ...backoff, jitter: 0 };
    expect([1, 2, 3, 4, 5, 6].map((n) => retryBackoffMs(n, noJitter, undefined))).toEqual([1000, 2000, 4000, 8000, 8000, 8000]);
  });

  it('spreads retries with equal jitter within [ceiling·(1−j), ceiling]', () => {
    expect(retryBackoffMs(3, backoff, undefined, () => 0)).toBe(2000);
    expect(retryBackoffMs(3, backoff, undefined, () => 0.999999)).toBe(4000);
    expect(retryBackoffMs(3, { ...backoff, jitter: 7 }, undefined, () => 0)).toBe(0);
  });
});
