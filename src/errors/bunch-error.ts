import { ERROR_CODES, isErrorCode, type ErrorCode } from './error-code.js';

/** Where a piece of bad input sits: a file, and optionally the row/line and field inside it. */
export interface InputLocation {
  file?: string;
  line?: number;
  row?: number;
  field?: string;
}

export interface BunchErrorOptions {
  cause?: unknown;
  retryable?: boolean;
  /** Milliseconds the upstream asked us to wait (RetryInfo / Retry-After). */
  retryAfterMs?: number;
  location?: InputLocation;
  /** Upstream HTTP status, when the error came from an HTTP answer. */
  status?: number;
  /** Upstream finish/block reason, when the model refused. */
  reason?: string;
}

/**
 * The one error type of bunch. Every failure that a user or operator can see carries a stable `code`.
 * The message never contains secrets: callers pass redacted text (see `redactSecrets`).
 */
export class BunchError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;
  readonly location: InputLocation | undefined;
  readonly status: number | undefined;
  readonly reason: string | undefined;

  constructor(code: ErrorCode, message: string, options: BunchErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'BunchError';
    this.code = code;
    this.retryable = options.retryable ?? ERROR_CODES[code].retryable;
    this.retryAfterMs = options.retryAfterMs;
    this.location = options.location;
    this.status = options.status;
    this.reason = options.reason;
  }

  toRecord(): ErrorRecord {
    return toErrorRecord(this);
  }
}

/** The plain shape that crosses into BullMQ, Redis and the manifest. */
export interface ErrorRecord {
  code: ErrorCode;
  message: string;
  retryable: boolean;
  retryAfterMs?: number;
  status?: number;
  reason?: string;
  location?: InputLocation;
}

export function toErrorRecord(error: unknown): ErrorRecord {
  if (error instanceof BunchError) {
    const record: ErrorRecord = { code: error.code, message: error.message, retryable: error.retryable };
    if (error.retryAfterMs !== undefined) record.retryAfterMs = error.retryAfterMs;
    if (error.status !== undefined) record.status = error.status;
    if (error.reason !== undefined) record.reason = error.reason;
    if (error.location !== undefined) record.location = error.location;
    return record;
  }
  const message = error instanceof Error ? error.message : String(error);
  return { code: 'E_INTERNAL', message, retryable: false };
}

export function isBunchError(error: unknown, code?: ErrorCode): error is BunchError {
  return error instanceof BunchError && (code === undefined || error.code === code);
}

export function errorCodeOf(error: unknown): ErrorCode {
  if (error instanceof BunchError) return error.code;
  const code = (error as { code?: unknown } | null)?.code;
  return isErrorCode(code) ? code : 'E_INTERNAL';
}

/** "jobs/a.yaml:12 field `prompt`: message" — the form every input error is shown in. */
export function formatLocation(location: InputLocation | undefined): string {
  if (!location) return '';
  let text = location.file ?? '';
  if (location.line !== undefined) text += `:${location.line}`;
  else if (location.row !== undefined) text += ` row ${location.row}`;
  if (location.field !== undefined) text += `${text ? ' ' : ''}field \`${location.field}\``;
  return text;
}
