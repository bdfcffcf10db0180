import type { ErrorCode } from '../errors/error-code.js';

/**
 * A per-item error in a batch result is a google.rpc.Status with a numeric gRPC code, not an HTTP
 * envelope. Mapped onto bunch codes with the same retry meaning the sync lane's HTTP mapping has
 * (UNAVAILABLE/INTERNAL → E_UPSTREAM, RESOURCE_EXHAUSTED → E_RATE_LIMITED, ...).
 */
export function codeForRpcStatus(code: number | undefined): ErrorCode {
  switch (code) {
    case 1: // CANCELLED: the item was never served (batch cancelled mid-run)
      return 'E_BATCH';
    case 3: // INVALID_ARGUMENT
    case 9: // FAILED_PRECONDITION
    case 11: // OUT_OF_RANGE
      return 'E_BAD_REQUEST';
    case 4: // DEADLINE_EXCEEDED
      return 'E_TIMEOUT';
    case 5: // NOT_FOUND
      return 'E_NOT_FOUND';
    case 7: // PERMISSION_DENIED
    case 16: // UNAUTHENTICATED
      return 'E_AUTH';
    case 8: // RESOURCE_EXHAUSTED
      return 'E_RATE_LIMITED';
    case 13: // INTERNAL
    case 14: // UNAVAILABLE
    case 10: // ABORTED
    case 2: // UNKNOWN
      return 'E_UPSTREAM';
    default:
      return 'E_BATCH';
  }
}
