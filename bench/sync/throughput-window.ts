/**
 * Whole-run and steady-state throughput from completion times. A closed loop of C callers with
 * latency L needs one L to fill (nothing can finish before the first call returns) and drains
 * over the last L with fewer than C in flight; both edges are a fixed cost, not a rate. The
 * steady state is therefore read between the 10th and the 90th percentile of completions, where
 * every slot is busy.
 */
export interface ThroughputWindow {
  /** items / (last completion - start), the number a user experiences. */
  wholeRunPerSecond: number;
  /** Completions between p10 and p90 divided by the time between them. */
  steadyPerSecond: number;
  steadyFromSeconds: number;
  steadyToSeconds: number;
}

export function throughputWindow(completions: readonly number[], wallSeconds: number): ThroughputWindow {
  const sorted = [...completions].sort((a, b) => a - b);
  const n = sorted.length;
  if (n < 10) throw new Error(`need at least 10 completions, got ${n}`);
  const lo = Math.floor(n * 0.1);
  const hi = Math.ceil(n * 0.9) - 1;
  const from = sorted[lo] as number;
  const to = sorted[hi] as number;
  return {
    wholeRunPerSecond: n / wallSeconds,
    steadyPerSecond: (hi - lo) / (to - from),
    steadyFromSeconds: from,
    steadyToSeconds: to,
  };
}
