import type { ErrorCode } from '../errors/error-code.js';

/**
 * Exit codes cron wrappers can act on:
 *   0 the run succeeded (within its failure threshold), or the command did what it was asked
 *   1 the run finished but failed, was cancelled or aborted (a rejected API key aborts a run: 1)
 *   2 bad input or configuration: job file, catalog, flags, environment, unknown run, and a
 *     model preflight that refused the key, the model or the project
 *   3 infrastructure: Redis, storage, network
 */
export const EXIT = { ok: 0, runFailed: 1, badInput: 2, infrastructure: 3 } as const;

export function exitCodeForError(code: ErrorCode): number {
  switch (code) {
    case 'E_JOB_FILE':
    case 'E_CATALOG_FILE':
    case 'E_CATALOG_ROW':
    case 'E_REFERENCE':
    case 'E_CONFIG':
    case 'E_UNSAFE_KEY':
    case 'E_BAD_REQUEST':
    case 'E_NOT_FOUND':
    // Refused by the model preflight: the key, the model name or the project's region/billing.
    case 'E_AUTH':
    case 'E_MODEL_NOT_FOUND':
    case 'E_PRECONDITION':
      return EXIT.badInput;
    default:
      return EXIT.infrastructure;
  }
}
