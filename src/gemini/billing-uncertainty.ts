import type { BunchError } from '../errors/bunch-error.js';

/** Causes that mean the request never reached the server: nothing can have been billed. */
const NEVER_CONNECTED = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/**
 * True when a failed call may still have been billed: the request reached the model and we do
 * not know what came of it (our deadline fired, the connection dropped after sending, the answer
 * was cut off or too large to read). An HTTP error answer is not billed; neither is a request
 * that never connected. The budget keeps such calls' price reserved, so `maxUsd` holds.
 */
export function mayHaveBeenBilled(failure: BunchError): boolean {
  switch (failure.code) {
    case 'E_TIMEOUT':
    case 'E_MALFORMED_RESPONSE':
    case 'E_RESPONSE_TOO_LARGE':
      return failure.status === undefined || failure.status === 504;
    case 'E_NETWORK':
      return !causeCodes(failure).some((code) => NEVER_CONNECTED.has(code));
    default:
      return false;
  }
}

function causeCodes(error: unknown): string[] {
  const codes: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current !== null && current !== undefined && depth < 8; depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') codes.push(code);
    current = (current as { cause?: unknown }).cause;
  }
  return codes;
}
