import { z } from 'zod';
import { BunchError } from '../../errors/bunch-error.js';

/**
 * Batch and Files knobs of the emulator: timing of the batch lifecycle, the scenario every batch
 * plays out, and the limits the real API enforces. The profile's `batch` section is parsed here;
 * single batches can override the scenario and timing with `[[emu-batch:...]]` tags in their
 * displayName (see `batch-scenario.ts`). Documented in docs/emulator-batch.md.
 */
export type BatchOutcome = 'succeeded' | 'failed' | 'expired';

export interface BatchKnobs {
  /** How long a new batch stays PENDING. */
  pendingMs: number;
  /** How long a batch stays RUNNING before it finishes; items are served evenly across it. */
  runningMs: number;
  /** How every batch ends unless its displayName says otherwise. */
  outcome: BatchOutcome;
  /** Create answers 429 RESOURCE_EXHAUSTED while this many batches are PENDING or RUNNING. */
  maxActiveBatches: number;
  /** Create the batch, then reset the connection instead of answering (a "crash right after create"). */
  resetAfterCreate: boolean;
  /** Largest accepted inline create body, in bytes (the API says "< 20 MB"). */
  maxInlineBodyBytes: number;
  /** Largest file the Files API accepts, in bytes (2 GB on the real API). */
  maxFileBytes: number;
  /** How long a file lives before it expires and answers 404 (48 h on the real API). */
  fileTtlMs: number;
  /** How often the background loop looks for due batch items. */
  tickMs: number;
}

const nonNegative = z.number().int().nonnegative();

const BatchKnobsSchema = z.strictObject({
  pendingMs: nonNegative.default(1000),
  runningMs: nonNegative.default(2000),
  outcome: z.enum(['succeeded', 'failed', 'expired']).default('succeeded'),
  maxActiveBatches: z.number().int().positive().default(100),
  resetAfterCreate: z.boolean().default(false),
  maxInlineBodyBytes: z.number().int().positive().default(20 * 1024 * 1024),
  maxFileBytes: z.number().int().positive().default(2 * 1024 * 1024 * 1024),
  fileTtlMs: z.number().int().positive().default(48 * 60 * 60 * 1000),
  tickMs: z.number().int().positive().default(20),
});

/** Total for `undefined` (all defaults); throws E_CONFIG on unknown keys or bad values. */
export function parseBatchKnobs(raw: unknown): BatchKnobs {
  const parsed = BatchKnobsSchema.safeParse(raw ?? {});
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
    throw new BunchError('E_CONFIG', `invalid emulator batch knobs: ${issues.join('; ')}`);
  }
  return Object.freeze({ ...parsed.data });
}
