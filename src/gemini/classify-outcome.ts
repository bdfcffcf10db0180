/**
 * The one place that turns what the Gemini API did into a bunch error code:
 * - HTTP errors (Google error envelope `{"error":{code,message,status,details}}`, any body tolerated),
 * - transport failures (our deadline, sockets, DNS, truncated bodies),
 * - HTTP 200 answers that still carry no usable output (blockReason, safety finish reasons, no image).
 * Retry policy follows Google's list (408, 429, 500, 502, 503, 504 retryable; 400/401/403/404 not).
 *
 * HTTP mapping, first match wins:
 *   envelope status FAILED_PRECONDITION (any HTTP status)  → E_PRECONDITION (region, billing)
 *   400 with ErrorInfo API_KEY_INVALID                      → E_AUTH
 *   401; 403 carrying the Google JSON envelope              → E_AUTH
 *   403 with any other body (HTML, text, empty)             → E_GATEWAY_BLOCKED: a gateway, proxy or
 *                                                             WAF in front of the API refused the call
 *   404 on a model endpoint (`resource: 'model'`)           → E_MODEL_NOT_FOUND
 *   404 elsewhere (files, batches)                          → E_NOT_FOUND
 *   408, 504 → E_TIMEOUT; 429 → E_RATE_LIMITED; 5xx → E_UPSTREAM; other 4xx → E_BAD_REQUEST
 */
import { isMissingFileMessage } from './missing-file-message.js';
import { BunchError } from '../errors/bunch-error.js';
import type { ErrorCode } from '../errors/error-code.js';
import { redactSecrets } from '../errors/redact-secrets.js';
import { isKnownFinishReason, type FinishReason } from './finish-reason.js';
import type { ParsedGenerateResponse } from './parse-generate-response.js';
import { parseRetryAfterHeader, retryInfoDelayMs } from './retry-delay.js';
import { stripMarkup } from './strip-markup.js';

const MESSAGE_LIMIT = 300;
const ERROR_INFO_TYPE = 'type.googleapis.com/google.rpc.ErrorInfo';

export interface ClassifyHttpOptions {
  /** Clock for Retry-After HTTP dates. */
  now?: number;
  /** Secret values to mask in the upstream message (the API key). */
  secrets?: readonly (string | undefined)[];
  /**
   * What the called URL names. On model endpoints (generateContent, models.get,
   * batchGenerateContent) the model is the only variable in the path, so a 404 can only mean the
   * model: E_MODEL_NOT_FOUND, which stops a run. Elsewhere (files, batches) a 404 is E_NOT_FOUND,
   * which callers handle per resource (a batch that vanished, an expired file).
   */
  resource?: 'model' | 'other';
}

interface GoogleErrorEnvelope {
  /** The body is the API's own JSON error (`{"error":{...}}`), not a page from something in front of it. */
  present: boolean;
  message?: string;
  status?: string;
  details?: unknown[];
}

function readEnvelope(body: string): GoogleErrorEnvelope {
  try {
    const json: unknown = JSON.parse(body);
    const error = (json as { error?: unknown } | null)?.error;
    if (error === null || typeof error !== 'object' || Array.isArray(error)) return { present: false };
    const { message, status, details } = error as Record<string, unknown>;
    const envelope: GoogleErrorEnvelope = { present: true };
    if (typeof message === 'string') envelope.message = message;
    if (typeof status === 'string') envelope.status = status;
    if (Array.isArray(details)) envelope.details = details;
    return envelope;
  } catch {
    return { present: false };
  }
}

function hasErrorInfoReason(details: unknown[] | undefined, reason: string): boolean {
  return (details ?? []).some(
    (d) =>
      d !== null &&
      typeof d === 'object' &&
      (d as Record<string, unknown>)['@type'] === ERROR_INFO_TYPE &&
      (d as Record<string, unknown>).reason === reason,
  );
}

function truncate(text: string, limit: number): string {
  return text.length <= limit ? text : `${text.slice(0, limit)}…`;
}

function codeForStatus(status: number, envelope: GoogleErrorEnvelope, resource: 'model' | 'other'): ErrorCode {
  // The project cannot use the API as called; Google sends it as a 400, but the status name is what says so.
  if (envelope.status === 'FAILED_PRECONDITION') return 'E_PRECONDITION';
  if (status === 400) {
    const badKey =
      hasErrorInfoReason(envelope.details, 'API_KEY_INVALID') || /API key not valid/i.test(envelope.message ?? '');
    return badKey ? 'E_AUTH' : 'E_BAD_REQUEST';
  }
  if (status === 401) return 'E_AUTH';
  // Google's own 403 is always the JSON envelope; anything else never reached the API.
  if (status === 403 && envelope.present && isMissingFileMessage(envelope.message)) return 'E_REFERENCE';
  if (status === 403) return envelope.present ? 'E_AUTH' : 'E_GATEWAY_BLOCKED';
  if (status === 404) return resource === 'model' ? 'E_MODEL_NOT_FOUND' : 'E_NOT_FOUND';
  if (status === 408 || status === 504) return 'E_TIMEOUT';
  if (status === 429) return 'E_RATE_LIMITED';
  if (status >= 500) return 'E_UPSTREAM';
  if (status >= 400) return 'E_BAD_REQUEST';
  // A 1xx/3xx that reached us as a failure: the server (or a gateway) misbehaved.
  return 'E_UPSTREAM';
}

/** What the operator reads first, for the codes that stop a run: what was refused, in their words. */
const LEADS: Partial<Record<ErrorCode, string>> = {
  E_AUTH: 'the API refused the key or its permission',
  E_PRECONDITION: 'the API refused the project as called (region not supported, or billing not enabled)',
  E_MODEL_NOT_FOUND: 'the model does not exist or is not available to this key',
};

/**
 * `secrets` are redacted before anything is cut to MESSAGE_LIMIT: a key cut in two by the limit
 * no longer matches its value (nor a key shape), and half of it went out.
 */
function messageFor(code: ErrorCode, status: number, envelope: GoogleErrorEnvelope, body: string, secrets: readonly (string | undefined)[]): string {
  if (code === 'E_GATEWAY_BLOCKED') {
    const page = truncate(redactSecrets(stripMarkup(body), secrets), MESSAGE_LIMIT);
    return `HTTP ${status} from something in front of the API (not a Gemini error): ${page || '(empty body)'}`;
  }
  const upstream = redactSecrets(envelope.message ?? body.trim(), secrets);
  const label = envelope.status ? `HTTP ${status} ${envelope.status}` : `HTTP ${status}`;
  const text = upstream ? `${label}: ${truncate(upstream, MESSAGE_LIMIT)}` : label;
  const lead = LEADS[code];
  return lead === undefined ? text : `${lead}: ${text}`;
}

/** Classifies a non-2xx HTTP answer. The body may be anything (HTML from a proxy, empty, cut off). */
export function classifyHttpError(
  status: number,
  body: string,
  headers: Headers,
  options: ClassifyHttpOptions = {},
): BunchError {
  const envelope = readEnvelope(body);
  const code = codeForStatus(status, envelope, options.resource ?? 'other');
  const text = messageFor(code, status, envelope, body, options.secrets ?? []);
  const retryAfterMs =
    retryInfoDelayMs(envelope.details) ?? parseRetryAfterHeader(headers.get('retry-after'), options.now);
  const errorOptions: ConstructorParameters<typeof BunchError>[2] = { status };
  if (retryAfterMs !== undefined) errorOptions.retryAfterMs = retryAfterMs;
  return new BunchError(code, redactSecrets(text, options.secrets ?? []), errorOptions);
}

export interface NetworkFailureContext {
  /** Our own deadline fired. */
  timedOut: boolean;
  /** The caller's AbortSignal fired (not our deadline). */
  cancelled?: boolean;
  /** The failure happened while reading the body, after the status line arrived. */
  duringBody?: boolean;
  secrets?: readonly (string | undefined)[];
}

const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
]);
// undici's own header/body timeouts (300 s by default) are a deadline too, just not ours.
const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/** The chain error → cause → cause…, as far as it goes (undici wraps the socket error in `cause`). */
function causeChain(error: unknown): unknown[] {
  const chain: unknown[] = [];
  let current: unknown = error;
  while (current !== undefined && current !== null && chain.length < 8 && !chain.includes(current)) {
    chain.push(current);
    current = (current as { cause?: unknown }).cause;
  }
  return chain;
}

function describe(error: unknown): string {
  return causeChain(error)
    .map((e) => {
      if (!(e instanceof Error)) return String(e);
      const code = (e as { code?: unknown }).code;
      return typeof code === 'string' ? `${e.message} (${code})` : e.message;
    })
    .join(': ');
}

/** Classifies a failure that is not an HTTP answer: deadline, cancellation, socket, DNS, bad body. */
export function classifyNetworkError(error: unknown, context: NetworkFailureContext): BunchError {
  if (error instanceof BunchError) return error;
  const detail = truncate(redactSecrets(describe(error), context.secrets ?? []), MESSAGE_LIMIT);
  if (context.timedOut) return new BunchError('E_TIMEOUT', `request timed out: ${detail}`, { cause: error });
  if (context.cancelled) return new BunchError('E_CANCELLED', `request cancelled: ${detail}`, { cause: error });

  const chain = causeChain(error);
  const codes = chain.map((e) => (e as { code?: unknown }).code).filter((c): c is string => typeof c === 'string');
  if (chain.some((e) => e instanceof SyntaxError)) {
    return new BunchError('E_MALFORMED_RESPONSE', `response body is not valid JSON: ${detail}`, { cause: error });
  }
  if (codes.some((c) => TIMEOUT_CODES.has(c))) {
    return new BunchError('E_TIMEOUT', `request timed out in the HTTP client: ${detail}`, { cause: error });
  }
  if (context.duringBody) {
    // The status line arrived and the body stopped short: the answer is cut off, not unreachable.
    return new BunchError('E_MALFORMED_RESPONSE', `response body truncated: ${detail}`, { cause: error });
  }
  if (codes.some((c) => NETWORK_CODES.has(c)) || error instanceof TypeError) {
    // fetch reports every transport failure as TypeError("fetch failed") with the reason in `cause`.
    return new BunchError('E_NETWORK', `network error: ${detail}`, { cause: error });
  }
  return new BunchError('E_NETWORK', `request failed: ${detail}`, { cause: error });
}

export interface ClassifyResponseOptions {
  /** The request asked for an image (responseModalities include IMAGE). */
  wantImage: boolean;
}

type ResponseVerdict = 'ok' | 'safety' | 'incomplete' | 'bad-request';

/** Exhaustive over the known finish reasons; a new reason added to FINISH_REASONS fails to compile here. */
function verdictFor(reason: FinishReason): ResponseVerdict {
  switch (reason) {
    case 'STOP':
      return 'ok';
    case 'SAFETY':
    case 'IMAGE_SAFETY':
    case 'PROHIBITED_CONTENT':
    case 'IMAGE_PROHIBITED_CONTENT':
    case 'BLOCKLIST':
    case 'SPII':
    case 'RECITATION':
    case 'IMAGE_RECITATION':
      return 'safety';
    case 'NO_IMAGE':
    case 'IMAGE_OTHER':
    case 'MAX_TOKENS':
    case 'OTHER':
    case 'LANGUAGE':
    case 'FINISH_REASON_UNSPECIFIED':
    case 'MALFORMED_FUNCTION_CALL':
    case 'UNEXPECTED_TOOL_CALL':
    case 'TOO_MANY_TOOL_CALLS':
      return 'incomplete';
    case 'MISSING_THOUGHT_SIGNATURE':
      // Our request omitted a thought signature in a multi-turn call: retrying the same body cannot help.
      return 'bad-request';
    default: {
      const unreachable: never = reason;
      return unreachable;
    }
  }
}

/** Unknown future reasons: refusals are named after what they refuse; anything else is "incomplete". */
function verdictForUnknown(reason: string): ResponseVerdict {
  return /SAFETY|PROHIBITED|BLOCK|RECITATION|SPII/i.test(reason) ? 'safety' : 'incomplete';
}

/** Decides whether an HTTP 200 answer is usable. Returns undefined when it is. */
export function classifyResponse(parsed: ParsedGenerateResponse, options: ClassifyResponseOptions): BunchError | undefined {
  if (parsed.blockReason !== undefined) {
    return new BunchError('E_SAFETY_BLOCKED', `prompt blocked (blockReason ${parsed.blockReason})`, {
      reason: parsed.blockReason,
    });
  }
  const reason = parsed.finishReason;
  const verdict = reason === undefined ? 'incomplete' : isKnownFinishReason(reason) ? verdictFor(reason) : verdictForUnknown(reason);
  const hasWanted = options.wantImage ? parsed.images.length > 0 : parsed.text.trim() !== '' || parsed.images.length > 0;
  const reasonOption = reason === undefined ? {} : { reason };

  switch (verdict) {
    case 'safety':
      return new BunchError('E_SAFETY_BLOCKED', `output blocked (finishReason ${reason})`, reasonOption);
    case 'bad-request':
      return new BunchError('E_BAD_REQUEST', `model rejected the request (finishReason ${reason})`, reasonOption);
    case 'ok':
    case 'incomplete': {
      if (hasWanted) return undefined;
      const what = options.wantImage ? (parsed.text.trim() === '' ? 'no image' : 'text but no image') : 'no output';
      return new BunchError('E_NO_IMAGE', `model returned ${what} (finishReason ${reason ?? 'none'})`, reasonOption);
    }
    default: {
      const unreachable: never = verdict;
      return unreachable;
    }
  }
}
