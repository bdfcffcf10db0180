import type { ItemTarget } from '../../plan/planned-item.js';
import type { AttemptEntry } from './attempt-history.js';

/**
 * The data of one BullMQ `generate` job: the item's target and its request body (prompt text and
 * settings, a few KB). Never image bytes (invariant 3): reference images travel as object keys.
 */
export interface GenerateJobData extends ItemTarget {
  runId: string;
  request: Record<string, unknown>;
  /** Copied from the run so the backoff strategy needs no Redis round trip. */
  backoff: { initialMs: number; maxMs: number; jitter: number };
  /**
   * Variants of the same row made from this item's image (`from:`), as drafts: released by this
   * job once it is terminal (release-dependants.ts). A few KB each, never image bytes.
   */
  dependants?: { target: ItemTarget; request: Record<string, unknown> }[];
  /**
   * Times this job was put back to wait without calling the model (another holder's output claim,
   * the run's exhausted daily quota): BullMQ counts them as starts, they are not attempts.
   */
  waits?: number;
  /** The item's story so far (attempt-history.ts), bounded; moves to its record when it ends. */
  history?: AttemptEntry[];
}

export interface FinalizeJobData {
  runId: string;
}

/** BullMQ custom ids must not contain `:` and must not be all digits. */
export function generateJobId(runId: string, index: number): string {
  return `${runId}.${index}`;
}

export function finalizeJobId(runId: string): string {
  return `finalize.${runId}`;
}
