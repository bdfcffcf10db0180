/**
 * Stable error codes. They cross process boundaries (BullMQ job records, manifests, CLI `--json`),
 * so a code is never renamed once shipped. `retryable` is the default policy for each code.
 */
export const ERROR_CODES = {
  E_TIMEOUT: { retryable: true },
  E_RATE_LIMITED: { retryable: true },
  E_UPSTREAM: { retryable: true },
  E_NETWORK: { retryable: true },
  E_MALFORMED_RESPONSE: { retryable: true },
  E_NO_IMAGE: { retryable: true },
  /** A 403 that is not the API's own JSON error (a gateway, proxy or WAF page): the call never reached the model. */
  E_GATEWAY_BLOCKED: { retryable: true },
  E_BAD_REQUEST: { retryable: false },
  E_AUTH: { retryable: false },
  /** FAILED_PRECONDITION: the project cannot use the API as called (region not supported, billing off). Stops the run. */
  E_PRECONDITION: { retryable: false },
  /** The model does not exist (retired, misspelled) or is not available to this key. Stops the run. */
  E_MODEL_NOT_FOUND: { retryable: false },
  /** A paid answer whose image could not be decoded or had the wrong type, twice. */
  E_BAD_IMAGE: { retryable: false },
  /** A paid answer whose structured caption is not JSON or does not match caption.schema (asked again a bounded number of times). */
  E_BAD_CAPTION: { retryable: true },
  /** A request whose estimated input tokens exceed the model's input limit (rejected at planning). */
  E_CONTEXT_LIMIT: { retryable: false },
  /** A response body over the size cap: refused without reading the rest (never retried, it would be paid again). */
  E_RESPONSE_TOO_LARGE: { retryable: false },
  E_NOT_FOUND: { retryable: false },
  E_SAFETY_BLOCKED: { retryable: false },
  E_CATALOG_ROW: { retryable: false },
  E_CATALOG_FILE: { retryable: false },
  /** A reference image could not be fetched, was refused by the address guard, or is not a usable image. */
  E_REFERENCE: { retryable: false },
  /** The item this one is generated from (`from: <variant>`) did not succeed. */
  E_DEPENDENCY: { retryable: false },
  E_JOB_FILE: { retryable: false },
  E_CONFIG: { retryable: false },
  E_BUDGET: { retryable: false },
  E_CANCELLED: { retryable: false },
  /** The process planning the run died (its lease lapsed): a fleet stopped the run with what it had handed out. */
  E_PLANNER_GONE: { retryable: false },
  E_STORAGE: { retryable: true },
  E_UNSAFE_KEY: { retryable: false },
  E_BATCH: { retryable: false },
  E_INTERNAL: { retryable: false },
} as const satisfies Record<string, { retryable: boolean }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_CODES, value);
}
