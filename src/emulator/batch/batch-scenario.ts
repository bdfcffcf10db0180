import type { BatchKnobs, BatchOutcome } from './batch-knobs.js';

/** How one batch plays out: the profile's knobs, overridden by tags in its displayName. */
export interface BatchScenario {
  readonly outcome: BatchOutcome;
  readonly pendingMs: number;
  readonly runningMs: number;
  readonly resetAfterCreate: boolean;
}

const TAG = /\[\[emu-batch:([a-z-]+)(?:=(\d+))?\]\]/g;

/**
 * Reads `[[emu-batch:failed]]`, `[[emu-batch:expired]]`, `[[emu-batch:succeeded]]`,
 * `[[emu-batch:reset-after-create]]`, `[[emu-batch:pending-ms=N]]` and `[[emu-batch:running-ms=N]]`
 * from a displayName. Tags are the per-batch control because a batch's requests are served long
 * after the create call, when no request header can reach them any more. Unknown tags are ignored.
 */
export function resolveBatchScenario(knobs: BatchKnobs, displayName: string | undefined): BatchScenario {
  let outcome = knobs.outcome;
  let pendingMs = knobs.pendingMs;
  let runningMs = knobs.runningMs;
  let resetAfterCreate = knobs.resetAfterCreate;
  for (const match of (displayName ?? '').matchAll(TAG)) {
    const [, name, value] = match;
    const number = value === undefined ? undefined : Number(value);
    if (name === 'failed' || name === 'expired' || name === 'succeeded') outcome = name;
    else if (name === 'reset-after-create') resetAfterCreate = true;
    else if (name === 'pending-ms' && number !== undefined) pendingMs = number;
    else if (name === 'running-ms' && number !== undefined) runningMs = number;
  }
  return Object.freeze({ outcome, pendingMs, runningMs, resetAfterCreate });
}
