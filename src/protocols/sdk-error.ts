/**
 * What a call through the official `openai` or `@anthropic-ai/sdk` client did, as a bunch error
 * code — the same codes and retry policy as the Gemini-native path (gemini/classify-outcome.ts):
 *
 *   400 with OpenAI's `content_policy_violation`   → E_SAFETY_BLOCKED (a refusal, not a bad call)
 *   401; 403 with the API's JSON error             → E_AUTH
 *   403 with any other body (a WAF or proxy page)  → E_GATEWAY_BLOCKED
 *   404                                            → E_MODEL_NOT_FOUND (the model is the only variable)
 *   408, 504, the client's timeout, our deadline   → E_TIMEOUT
 *   429 with OpenAI's `insufficient_quota`          → E_PRECONDITION (no credit left: waiting will not help; stops the run)
 *   429                                            → E_RATE_LIMITED, with the retry-after delay
 *   5xx, Anthropic's 529 (overloaded)              → E_UPSTREAM
 *   other 4xx                                      → E_BAD_REQUEST
 *   connection failures                            → E_NETWORK;  the caller's abort → E_CANCELLED
 *   a body over the cap (capped-fetch.ts)          → E_RESPONSE_TOO_LARGE, as raised
 *
 * Both SDKs (Stainless-generated) share the error family: `APIError` with `status`, `headers` and
 * `error` (the parsed JSON body, or undefined when the body was not JSON, whose text is then in
 * the message). Messages are redacted (the key) and cut to 300 characters.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { BunchError } from '../errors/bunch-error.js';
import type { ErrorCode } from '../errors/error-code.js';
import { redactSecrets } from '../errors/redact-secrets.js';
import { parseRetryAfterHeader } from '../gemini/retry-delay.js';
import { stripMarkup } from '../gemini/strip-markup.js';

const MESSAGE_LIMIT = 300;

export interface SdkFailureContext {
  protocol: 'openai' | 'anthropic';
  /** Our own deadline fired (the whole call, body included). */
  timedOut: boolean;
  /** The caller's signal fired. */
  cancelled: boolean;
  secrets: readonly (string | undefined)[];
  now?: number;
}

type SdkApiError = InstanceType<typeof OpenAI.APIError> | InstanceType<typeof Anthropic.APIError>;

function isApiError(error: unknown): error is SdkApiError {
  return error instanceof OpenAI.APIError || error instanceof Anthropic.APIError;
}

function clean(text: string, secrets: readonly (string | undefined)[]): string {
  const plain = /<[a-z!][\s\S]*>/i.test(text) ? stripMarkup(text) : text;
  const redacted = redactSecrets(plain, secrets);
  return redacted.length <= MESSAGE_LIMIT ? redacted : `${redacted.slice(0, MESSAGE_LIMIT)}…`;
}

/** The API's own message from the JSON error body (OpenAI `{error:{message}}` is unwrapped by the SDK; Anthropic's is not). */
function apiMessage(error: SdkApiError): string | undefined {
  const body = error.error as { message?: unknown; error?: { message?: unknown } } | undefined;
  if (typeof body?.message === 'string') return body.message;
  if (typeof body?.error?.message === 'string') return body.error.message;
  return undefined;
}

function httpCode(status: number, error: SdkApiError): ErrorCode {
  const body = error.error as { code?: unknown; type?: unknown } | undefined;
  if (status === 400 && body?.code === 'content_policy_violation') return 'E_SAFETY_BLOCKED';
  if (status === 401) return 'E_AUTH';
  if (status === 403) return error.error !== undefined ? 'E_AUTH' : 'E_GATEWAY_BLOCKED';
  if (status === 404) return 'E_MODEL_NOT_FOUND';
  if (status === 408 || status === 504) return 'E_TIMEOUT';
  // OpenAI sends both fields; some gateways copy only the type.
  if (status === 429) return body?.code === 'insufficient_quota' || body?.type === 'insufficient_quota' ? 'E_PRECONDITION' : 'E_RATE_LIMITED';
  if (status >= 500) return 'E_UPSTREAM';
  return 'E_BAD_REQUEST';
}

export function classifySdkError(error: unknown, context: SdkFailureContext): BunchError {
  if (error instanceof BunchError) return error;
  const name = context.protocol === 'openai' ? 'OpenAI-compatible' : 'Claude-compatible';
  if (context.cancelled) return new BunchError('E_CANCELLED', `${name} request cancelled`, { cause: error });
  if (context.timedOut || error instanceof OpenAI.APIConnectionTimeoutError || error instanceof Anthropic.APIConnectionTimeoutError) {
    return new BunchError('E_TIMEOUT', `${name} request timed out`, { cause: error });
  }
  if (error instanceof OpenAI.APIUserAbortError || error instanceof Anthropic.APIUserAbortError) {
    return new BunchError('E_CANCELLED', `${name} request cancelled`, { cause: error });
  }
  if (error instanceof OpenAI.APIConnectionError || error instanceof Anthropic.APIConnectionError) {
    const cause = (error as { cause?: unknown }).cause;
    // Our own fetch refused the answer (capped-fetch.ts); the SDK wrapped that as a connection error.
    if (cause instanceof BunchError) return cause;
    const detail = cause instanceof Error ? cause.message : error.message;
    return new BunchError('E_NETWORK', `${name} connection failed: ${clean(detail, context.secrets)}`, { cause: error });
  }
  if (isApiError(error) && typeof error.status === 'number') {
    const status = error.status;
    const code = httpCode(status, error);
    const message = clean(apiMessage(error) ?? error.message, context.secrets);
    const retryAfterMs = code === 'E_RATE_LIMITED' ? retryAfterOf(error, context.now) : undefined;
    return new BunchError(code, `${name} API answered HTTP ${status}: ${message}`, {
      cause: error,
      status,
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
      ...(code === 'E_SAFETY_BLOCKED' ? { reason: 'SAFETY' } : {}),
    });
  }
  const detail = error instanceof Error ? error.message : String(error);
  // A body that is not the JSON the SDK expects surfaces as a SyntaxError or a TypeError on a missing field.
  if (error instanceof SyntaxError) return new BunchError('E_MALFORMED_RESPONSE', `${name} answer is not valid JSON: ${clean(detail, context.secrets)}`, { cause: error });
  return new BunchError('E_NETWORK', `${name} request failed: ${clean(detail, context.secrets)}`, { cause: error });
}

/** `retry-after-ms` (OpenAI's extension) or `retry-after` (seconds or an HTTP date). */
function retryAfterOf(error: SdkApiError, now?: number): number | undefined {
  const headers = error.headers as Headers | undefined;
  const ms = Number(headers?.get('retry-after-ms'));
  if (Number.isFinite(ms) && ms > 0) return ms;
  return parseRetryAfterHeader(headers?.get('retry-after'), now);
}
