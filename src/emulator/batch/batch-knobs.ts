/**
 * Batch timing and scenario knobs of the emulator. (Stub: the Batch API engineer owns this file
 * and will extend it; keep `parseBatchKnobs` total: it must accept `undefined`.)
 */
export interface BatchKnobs {
  /** How long a new batch stays PENDING. */
  pendingMs: number;
  /** How long a batch stays RUNNING before it finishes. */
  runningMs: number;
}

export function parseBatchKnobs(raw: unknown): BatchKnobs {
  const value = (raw ?? {}) as Partial<BatchKnobs>;
  return { pendingMs: value.pendingMs ?? 1000, runningMs: value.runningMs ?? 2000 };
}
