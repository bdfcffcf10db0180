import type { ServerResponse } from 'node:http';

/**
 * The Google API error envelope: `{"error":{"code","message","status","details"}}` with the HTTP
 * status equal to `code`. `status` is the google.rpc.Code name. Per-item Batch errors use the
 * bare google.rpc.Status instead, with the numeric gRPC code (see `grpcCodeFor`).
 */
export type GoogleRpcStatus =
  | 'INVALID_ARGUMENT'
  | 'FAILED_PRECONDITION'
  | 'PERMISSION_DENIED'
  | 'UNAUTHENTICATED'
  | 'NOT_FOUND'
  | 'RESOURCE_EXHAUSTED'
  | 'CANCELLED'
  | 'INTERNAL'
  | 'UNAVAILABLE'
  | 'DEADLINE_EXCEEDED';

const GRPC_CODES: Record<GoogleRpcStatus, number> = {
  CANCELLED: 1,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
};

export interface GoogleErrorBody {
  error: { code: number; message: string; status: GoogleRpcStatus; details?: unknown[] };
}

export class GoogleApiError extends Error {
  constructor(
    readonly httpStatus: number,
    readonly status: GoogleRpcStatus,
    message: string,
    readonly details: unknown[] = [],
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'GoogleApiError';
  }

  toBody(): GoogleErrorBody {
    const error: GoogleErrorBody['error'] = { code: this.httpStatus, message: this.message, status: this.status };
    if (this.details.length > 0) error.details = this.details;
    return { error };
  }

  /** The google.rpc.Status form used for per-item errors in batch results. */
  toRpcStatus(): { code: number; message: string; details?: unknown[] } {
    const status: { code: number; message: string; details?: unknown[] } = {
      code: grpcCodeFor(this.status),
      message: this.message,
    };
    if (this.details.length > 0) status.details = this.details;
    return status;
  }
}

export function grpcCodeFor(status: GoogleRpcStatus): number {
  return GRPC_CODES[status];
}

export function sendJson(res: ServerResponse, httpStatus: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(httpStatus, {
    'content-type': 'application/json; charset=UTF-8',
    'content-length': String(Buffer.byteLength(text)),
    ...headers,
  });
  res.end(text);
}

export function sendGoogleError(res: ServerResponse, error: GoogleApiError): void {
  sendJson(res, error.httpStatus, error.toBody(), error.headers);
}
