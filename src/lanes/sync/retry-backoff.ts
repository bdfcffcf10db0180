import type { GenerateJobData } from './generate-job-data.js';

/**
 * Backoff for failed generate attempts: the upstream's own wait (RetryInfo / Retry-After) when it
 * gave one, else exponential from `initialMs`, capped at `maxMs`, with "equal jitter" so retries of
 * many items that failed together spread out instead of returning as a herd.
 */
export function retryBackoffMs(
  attemptsMade: number,
  backoff: GenerateJobData['backoff'],
  retryAfterMs: number | undefined,
  random: () => number = Math.random,
): number {
  if (retryAfterMs !== undefined && retryAfterMs > 0) return Math.min(retryAfterMs, 10 * 60_000);
  const exponent = Math.max(0, attemptsMade - 1);
  const ceiling = Math.min(backoff.maxMs, backoff.initialMs * 2 ** exponent);
  const jitter = Math.min(Math.max(backoff.jitter, 0), 1);
  return Math.round(ceiling * (1 - jitter) + ceiling * jitter * random());
}
