import type { ErrorCode } from '../errors/error-code.js';
import { isMissingFileMessage } from './missing-file-message.js';

/**
 * A per-item error in a batch result is a google.rpc.Status with a numeric gRPC code, not an HTTP
 * envelope. Mapped onto bunch codes with the same meaning the sync lane's HTTP mapping has
 * (classify-outcome.ts): UNAVAILABLE/INTERNAL → E_UPSTREAM, RESOURCE_EXHAUSTED → E_RATE_LIMITED,
 * FAILED_PRECONDITION → E_PRECONDITION, PERMISSION_DENIED/UNAUTHENTICATED → E_AUTH, ...
 * NOT_FOUND stays E_NOT_FOUND: the batch was created for its model, so what an item cannot find
 * is something it names itself (a file), not the model.
 */
export function codeForRpcStatus(code: number | undefined, message?: string): ErrorCode {
  // A reference file that expired or was deleted: the item's problem, not the key's.
  if (code === 7 && isMissingFileMessage(message)) return 'E_REFERENCE';
  switch (code) {
    case 1: // CANCELLED: the item was never served (batch cancelled mid-run)
      return 'E_BATCH';
    case 3: // INVALID_ARGUMENT
    case 11: // OUT_OF_RANGE
      return 'E_BAD_REQUEST';
    case 9: // FAILED_PRECONDITION: region not supported, billing off; as on the HTTP wire
      return 'E_PRECONDITION';
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
