import { describe, expect, it } from 'vitest';
import { classifyHttpError } from '../../../src/gemini/classify-outcome.js';

function envelope(code: number, status: string, message: string, details?: unknown[]): string {
  return JSON.stringify({ error: { code, message, status, ...(details ? { details } : {}) } });
}

const none = new Headers();

describe('classifyHttpError', () => {
  it('400 with ErrorInfo API_KEY_INVALID is E_AUTH, not retryable', () => {
    const body = envelope(400, 'INVALID_ARGUMENT', 'API key not valid. Please pass a valid API key.', [
      { '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID', domain: 'googleapis.com' },
    ]);
    const error = classifyHttpError(400, body, none);
    expect(error.code).toBe('E_AUTH');
    expect(error.retryable).toBe(false);
    expect(error.status).toBe(400);
    expect(error.message).toBe('the API refused the key or its permission: HTTP 400 INVALID_ARGUMENT: API key not valid. Please pass a valid API key.');
  });

  it('other 400s are E_BAD_REQUEST', () => {
    const body = envelope(400, 'INVALID_ARGUMENT', 'Invalid JSON payload received. Unknown name "x"');
    const error = classifyHttpError(400, body, none);
    expect(error.code).toBe('E_BAD_REQUEST');
    expect(error.retryable).toBe(false);
    expect(error.retryAfterMs).toBeUndefined();
  });

  it.each([401, 403])('%i with the Google envelope is E_AUTH, saying the API refused the key', (status) => {
    const error = classifyHttpError(status, envelope(status, 'PERMISSION_DENIED', 'unregistered callers'), none);
    expect(error.code).toBe('E_AUTH');
    expect(error.retryable).toBe(false);
    expect(error.message).toBe(`the API refused the key or its permission: HTTP ${status} PERMISSION_DENIED: unregistered callers`);
  });

  it('401 is E_AUTH whatever its body', () => {
    const error = classifyHttpError(401, '<html><body>Unauthorized</body></html>', none);
    expect(error.code).toBe('E_AUTH');
    expect(error.message).toBe('the API refused the key or its permission: HTTP 401: <html><body>Unauthorized</body></html>');
  });

  it('403 about a Files API file (expired, deleted) is E_REFERENCE: one item\'s photo, it must not stop the run', () => {
    const body = envelope(403, 'PERMISSION_DENIED', 'You do not have permission to access the File x7k2 or it may not exist.');
    const error = classifyHttpError(403, body, none);
    expect([error.code, error.retryable]).toEqual(['E_REFERENCE', false]);
  });

  it('403 with another JSON envelope status is still the API: E_AUTH', () => {
    const error = classifyHttpError(403, envelope(403, 'UNAUTHENTICATED', 'Request had invalid authentication credentials.'), none);
    expect(error.code).toBe('E_AUTH');
  });

  it('403 with an HTML page is E_GATEWAY_BLOCKED, retryable, with the page as text', () => {
    const page =
      '<!DOCTYPE html><html><head><title>Forbidden</title><style>h1{color:red}</style></head>' +
      '<body><h1>Access denied</h1><script>var x = 1;</script><p>Blocked by policy &amp; rules.</p></body></html>';
    const error = classifyHttpError(403, page, none);
    expect(error.code).toBe('E_GATEWAY_BLOCKED');
    expect(error.retryable).toBe(true);
    expect(error.status).toBe(403);
    expect(error.message).toBe('HTTP 403 from something in front of the API (not a Gemini error): Access denied Blocked by policy & rules.');
  });

  it('403 with an empty body is E_GATEWAY_BLOCKED, and says the body was empty', () => {
    const error = classifyHttpError(403, '', none);
    expect(error.code).toBe('E_GATEWAY_BLOCKED');
    expect(error.message).toBe('HTTP 403 from something in front of the API (not a Gemini error): (empty body)');
  });

  it('403 with plain text, or JSON that is not the envelope, is E_GATEWAY_BLOCKED', () => {
    expect(classifyHttpError(403, 'Forbidden by proxy', none).message).toBe(
      'HTTP 403 from something in front of the API (not a Gemini error): Forbidden by proxy',
    );
    expect(classifyHttpError(403, '{"message":"Forbidden"}', none).code).toBe('E_GATEWAY_BLOCKED');
    expect(classifyHttpError(403, '{"error":"blocked"}', none).code).toBe('E_GATEWAY_BLOCKED');
  });

  it('a long gateway page is cut to 300 characters of text', () => {
    const page = `<html><body><p>${'blocked '.repeat(100)}</p></body></html>`;
    const message = classifyHttpError(403, page, none).message;
    const prefix = 'HTTP 403 from something in front of the API (not a Gemini error): ';
    expect(message.startsWith(`${prefix}blocked blocked`)).toBe(true);
    expect(message).toHaveLength(prefix.length + 301);
    expect(message.endsWith('…')).toBe(true);
  });

  it('FAILED_PRECONDITION is E_PRECONDITION, not retryable, whatever the HTTP status', () => {
    const body = envelope(400, 'FAILED_PRECONDITION', 'User location is not supported for the API use.');
    const error = classifyHttpError(400, body, none);
    expect(error.code).toBe('E_PRECONDITION');
    expect(error.retryable).toBe(false);
    expect(error.status).toBe(400);
    expect(error.message).toBe(
      'the API refused the project as called (region not supported, or billing not enabled): HTTP 400 FAILED_PRECONDITION: User location is not supported for the API use.',
    );
    expect(classifyHttpError(403, envelope(403, 'FAILED_PRECONDITION', 'billing'), none).code).toBe('E_PRECONDITION');
  });

  it('404 on a model endpoint is E_MODEL_NOT_FOUND', () => {
    const body = envelope(404, 'NOT_FOUND', 'models/x is not found for API version v1beta, or is not supported for generateContent.');
    const error = classifyHttpError(404, body, none, { resource: 'model' });
    expect(error.code).toBe('E_MODEL_NOT_FOUND');
    expect(error.retryable).toBe(false);
    expect(error.message).toBe(
      'the model does not exist or is not available to this key: HTTP 404 NOT_FOUND: models/x is not found for API version v1beta, or is not supported for generateContent.',
    );
  });

  it('404 elsewhere (files, batches) stays E_NOT_FOUND', () => {
    const error = classifyHttpError(404, envelope(404, 'NOT_FOUND', 'Batch batches/x not found.'), none);
    expect(error.code).toBe('E_NOT_FOUND');
    expect(error.retryable).toBe(false);
    expect(error.message).toBe('HTTP 404 NOT_FOUND: Batch batches/x not found.');
    expect(classifyHttpError(404, '', none, { resource: 'other' }).code).toBe('E_NOT_FOUND');
  });

  it.each([408, 504])('%i is a retryable E_TIMEOUT', (status) => {
    const error = classifyHttpError(status, envelope(status, 'DEADLINE_EXCEEDED', 'Deadline exceeded'), none);
    expect(error.code).toBe('E_TIMEOUT');
    expect(error.retryable).toBe(true);
  });

  it.each([500, 502, 503])('%i is a retryable E_UPSTREAM', (status) => {
    const error = classifyHttpError(status, envelope(status, 'UNAVAILABLE', 'high demand'), none);
    expect(error.code).toBe('E_UPSTREAM');
    expect(error.retryable).toBe(true);
    expect(error.retryAfterMs).toBeUndefined();
  });

  it('429 takes retryAfterMs from RetryInfo, which wins over Retry-After', () => {
    const body = envelope(429, 'RESOURCE_EXHAUSTED', 'You exceeded your current quota. Please retry in 47.43s.', [
      { '@type': 'type.googleapis.com/google.rpc.Help', links: [{ description: 'docs', url: 'https://ai.google.dev' }] },
      { '@type': 'type.googleapis.com/google.rpc.QuotaFailure', violations: [{ quotaId: 'PerMinute' }] },
      { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '47s' },
    ]);
    const error = classifyHttpError(429, body, new Headers({ 'retry-after': '5' }));
    expect(error.code).toBe('E_RATE_LIMITED');
    expect(error.retryable).toBe(true);
    expect(error.retryAfterMs).toBe(47_000);
  });

  it.each([
    ['1.5s', 1500],
    ['0.300s', 300],
    ['300ms', 300],
  ])('429 RetryInfo retryDelay %s is %i ms', (retryDelay, ms) => {
    const body = envelope(429, 'RESOURCE_EXHAUSTED', 'quota', [
      { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay },
    ]);
    expect(classifyHttpError(429, body, none).retryAfterMs).toBe(ms);
  });

  it('429 falls back to Retry-After seconds', () => {
    const error = classifyHttpError(429, envelope(429, 'RESOURCE_EXHAUSTED', 'quota'), new Headers({ 'retry-after': '12' }));
    expect(error.code).toBe('E_RATE_LIMITED');
    expect(error.retryAfterMs).toBe(12_000);
  });

  it('429 falls back to a Retry-After HTTP date', () => {
    const now = Date.parse('2026-11-21T10:00:00Z');
    const headers = new Headers({ 'retry-after': 'Sat, 21 Nov 2026 10:00:30 GMT' });
    const error = classifyHttpError(429, '', headers, { now });
    expect(error.code).toBe('E_RATE_LIMITED');
    expect(error.retryAfterMs).toBe(30_000);
  });

  it('429 with only a Help detail has no retryAfterMs', () => {
    const body = envelope(429, 'RESOURCE_EXHAUSTED', 'quota', [{ '@type': 'type.googleapis.com/google.rpc.Help', links: [] }]);
    const error = classifyHttpError(429, body, none);
    expect(error.code).toBe('E_RATE_LIMITED');
    expect(error.retryAfterMs).toBeUndefined();
  });

  it('503 with Retry-After keeps the hint', () => {
    const error = classifyHttpError(503, '', new Headers({ 'retry-after': '3' }));
    expect(error.code).toBe('E_UPSTREAM');
    expect(error.retryAfterMs).toBe(3000);
  });

  it('classifies by status when the body is not JSON, and truncates long bodies', () => {
    const html = `<html><body>${'Bad gateway '.repeat(100)}</body></html>`;
    const error = classifyHttpError(502, html, none);
    expect(error.code).toBe('E_UPSTREAM');
    expect(error.message.startsWith('HTTP 502: <html><body>Bad gateway')).toBe(true);
    expect(error.message.length).toBeLessThanOrEqual('HTTP 502: '.length + 301);
    expect(error.message.endsWith('…')).toBe(true);
  });

  it('an empty body still gives a message', () => {
    expect(classifyHttpError(500, '', none).message).toBe('HTTP 500');
  });

  it('other 4xx are E_BAD_REQUEST, other 5xx E_UPSTREAM', () => {
    expect(classifyHttpError(413, '', none).code).toBe('E_BAD_REQUEST');
    expect(classifyHttpError(599, '', none).code).toBe('E_UPSTREAM');
  });

  it('never echoes the API key', () => {
    const key = ['AIza', 'SyD-not-a-real-key-0123456789abcd'].join(''); // assembled: a fake key, kept out of secret scanners
    const custom = 'gw-secret-token-42';
    const body = envelope(400, 'INVALID_ARGUMENT', `API key not valid: ${key}, token ${custom}, url ?key=${custom}`);
    const error = classifyHttpError(400, body, none, { secrets: [custom] });
    expect(error.code).toBe('E_AUTH');
    expect(error.message).not.toContain(key);
    expect(error.message).not.toContain(custom);
    expect(error.message).toContain('[redacted]');
  });
});
