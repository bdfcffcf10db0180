/**
 * How long the Gemini API asks us to wait before retrying. Two sources, RetryInfo first because
 * it is the more precise one (Google rounds Retry-After to whole seconds, when it sends it at all):
 * - `google.rpc.RetryInfo.retryDelay` in the error envelope's `details`: a proto Duration in its
 *   JSON form ("47s", "1.5s", "0.300s"); some gateways write "300ms" or `{seconds, nanos}`.
 * - the HTTP `Retry-After` header: delta-seconds or an HTTP date (RFC 9110 §10.2.3).
 */
const RETRY_INFO_TYPE = 'type.googleapis.com/google.rpc.RetryInfo';

/** A proto Duration ("47s", "1.5s", "300ms", {seconds, nanos}) in milliseconds, or undefined. */
export function parseDurationMs(value: unknown): number | undefined {
  if (typeof value === 'string') {
    const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s)\s*$/i.exec(value);
    if (!match?.[1] || !match[2]) return undefined;
    const amount = Number(match[1]);
    return Math.round(match[2].toLowerCase() === 'ms' ? amount : amount * 1000);
  }
  if (value !== null && typeof value === 'object') {
    const { seconds, nanos } = value as { seconds?: unknown; nanos?: unknown };
    const s = Number(seconds ?? 0);
    const n = Number(nanos ?? 0);
    if (!Number.isFinite(s) || !Number.isFinite(n) || s < 0 || n < 0) return undefined;
    return Math.round(s * 1000 + n / 1e6);
  }
  return undefined;
}

/** The retryDelay of the first google.rpc.RetryInfo entry in an error envelope's details. */
export function retryInfoDelayMs(details: unknown): number | undefined {
  if (!Array.isArray(details)) return undefined;
  for (const detail of details) {
    if (detail !== null && typeof detail === 'object' && (detail as { '@type'?: unknown })['@type'] === RETRY_INFO_TYPE) {
      const delay = parseDurationMs((detail as { retryDelay?: unknown }).retryDelay);
      if (delay !== undefined) return delay;
    }
  }
  return undefined;
}

/** A Retry-After header value in milliseconds from `now`; dates in the past give 0. */
export function parseRetryAfterHeader(value: string | null | undefined, now: number = Date.now()): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // Only accept something that looks like an HTTP date, not any string Date.parse tolerates.
  if (!/[a-z]{3},? /i.test(text)) return undefined;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}
