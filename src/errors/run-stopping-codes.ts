import type { ErrorCode } from './error-code.js';

/**
 * Failures that say something about the whole run, not one item: the key, the project or the
 * model is wrong. The first occurrence stops the run with one clear message instead of letting
 * every item pay a round trip and fail on its own.
 */
export const RUN_STOPPING_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['E_AUTH', 'E_PRECONDITION', 'E_MODEL_NOT_FOUND']);

export function stopsTheRun(code: ErrorCode): boolean {
  return RUN_STOPPING_CODES.has(code);
}
