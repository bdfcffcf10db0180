/**
 * The 429 RESOURCE_EXHAUSTED answer of the real API: a message ending "Please retry in Ns.", and
 * details google.rpc.Help, google.rpc.QuotaFailure and google.rpc.RetryInfo{retryDelay:"Ns"}. The
 * real service sends no Retry-After header; `withHeader` adds one (whole seconds, rounded up).
 */
import { GoogleApiError } from './google-error.js';

const METRIC = 'generativelanguage.googleapis.com/generate_content_paid_tier_requests';

export function quotaError(model: string, retryAfterMs: number, withHeader: boolean, limit?: number): GoogleApiError {
  const seconds = formatSeconds(retryAfterMs / 1000);
  const quotaLine = limit === undefined ? '' : `\n* Quota exceeded for metric: ${METRIC}, limit: ${limit}, model: ${model}`;
  const message =
    'You exceeded your current quota, please check your plan and billing details. For more information on this error, ' +
    'head to: https://ai.google.dev/gemini-api/docs/rate-limits. To monitor your current usage, head to: ' +
    `https://ai.dev/rate-limit.${quotaLine}\nPlease retry in ${seconds}s.`;
  const violation: Record<string, unknown> = {
    quotaMetric: METRIC,
    quotaId: 'GenerateRequestsPerMinutePerProjectPerModel-PaidTier',
    quotaDimensions: { location: 'global', model },
  };
  if (limit !== undefined) violation['quotaValue'] = String(limit);
  const details = [
    {
      '@type': 'type.googleapis.com/google.rpc.Help',
      links: [{ description: 'Learn more about Gemini API quotas', url: 'https://ai.google.dev/gemini-api/docs/rate-limits' }],
    },
    { '@type': 'type.googleapis.com/google.rpc.QuotaFailure', violations: [violation] },
    { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: `${seconds}s` },
  ];
  const headers: Record<string, string> = withHeader ? { 'retry-after': String(Math.ceil(retryAfterMs / 1000)) } : {};
  return new GoogleApiError(429, 'RESOURCE_EXHAUSTED', message, details, headers);
}

/** Seconds as a proto Duration number: at most millisecond precision, no trailing zeros. */
function formatSeconds(seconds: number): string {
  return String(Number(Math.max(0, seconds).toFixed(3)));
}
