import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { BunchError } from '../../../src/errors/bunch-error.js';
import { classifySdkError, type SdkFailureContext } from '../../../src/protocols/sdk-error.js';

/**
 * The errors are the SDKs' own classes, built the way the SDKs build them from an HTTP answer
 * (`APIError.generate(status, parsed body, text when not JSON, headers)`).
 */
const KEY = 'gw-key-0123456789';
const openai: SdkFailureContext = { protocol: 'openai', timedOut: false, cancelled: false, secrets: [KEY], now: Date.parse('2026-12-04T00:00:00Z') };
const anthropic: SdkFailureContext = { ...openai, protocol: 'anthropic' };
const headers = (entries: Record<string, string> = {}) => new Headers({ 'content-type': 'application/json', ...entries });

function classified(error: unknown, context: SdkFailureContext) {
  const result = classifySdkError(error, context);
  expect(result).toBeInstanceOf(BunchError);
  return { code: result.code, message: result.message, status: result.status, retryAfterMs: result.retryAfterMs, reason: result.reason };
}

describe('classifySdkError', () => {
  it('429: E_RATE_LIMITED with retry-after-ms (OpenAI) or retry-after seconds and dates', () => {
    const fromOpenAi = OpenAI.APIError.generate(429, { error: { message: 'Rate limit reached for images', type: 'requests' } }, undefined, headers({ 'retry-after-ms': '1500', 'retry-after': '9' }));
    expect(classified(fromOpenAi, openai)).toEqual({
      code: 'E_RATE_LIMITED', message: 'OpenAI-compatible API answered HTTP 429: Rate limit reached for images', status: 429, retryAfterMs: 1500, reason: undefined,
    });
    const seconds = Anthropic.APIError.generate(429, { type: 'error', error: { type: 'rate_limit_error', message: 'Number of requests has exceeded your rate limit' } }, undefined, headers({ 'retry-after': '2' }));
    expect(classified(seconds, anthropic)).toMatchObject({ code: 'E_RATE_LIMITED', message: 'Claude-compatible API answered HTTP 429: Number of requests has exceeded your rate limit', retryAfterMs: 2000 });
    const date = Anthropic.APIError.generate(429, undefined, 'slow down', headers({ 'retry-after': 'Fri, 04 Dec 2026 00:00:05 GMT' }));
    expect(classified(date, anthropic).retryAfterMs).toBe(5000);
  });

  it('a content policy refusal is E_SAFETY_BLOCKED, not a bad request', () => {
    const refusal = OpenAI.APIError.generate(400, { error: { message: 'Your request was rejected by the safety system.', code: 'content_policy_violation' } }, undefined, headers());
    expect(classified(refusal, openai)).toMatchObject({ code: 'E_SAFETY_BLOCKED', reason: 'SAFETY', status: 400 });
    const other = OpenAI.APIError.generate(400, { error: { message: "Invalid size '7x7'", code: 'invalid_value' } }, undefined, headers());
    expect(classified(other, openai)).toMatchObject({ code: 'E_BAD_REQUEST', message: "OpenAI-compatible API answered HTTP 400: Invalid size '7x7'" });
  });

  it('403: the API saying no is E_AUTH; a proxy page is E_GATEWAY_BLOCKED, its markup stripped', () => {
    const api = Anthropic.APIError.generate(403, { type: 'error', error: { type: 'permission_error', message: 'Your key cannot use this model' } }, undefined, headers());
    expect(classified(api, anthropic)).toMatchObject({ code: 'E_AUTH', message: 'Claude-compatible API answered HTTP 403: Your key cannot use this model' });
    const page = OpenAI.APIError.generate(403, undefined, '<html><head><title>403</title></head><body><h1>Access denied</h1><p>Request blocked by policy</p></body></html>', headers({ 'content-type': 'text/html' }));
    const result = classified(page, openai);
    expect(result.code).toBe('E_GATEWAY_BLOCKED');
    expect(result.message).not.toMatch(/<|>/);
    expect(result.message).toContain('Access denied');
  });

  it('maps the other statuses as the Gemini-native path does', () => {
    const cases: [number, string][] = [
      [401, 'E_AUTH'],
      [404, 'E_MODEL_NOT_FOUND'],
      [408, 'E_TIMEOUT'],
      [422, 'E_BAD_REQUEST'],
      [500, 'E_UPSTREAM'],
      [503, 'E_UPSTREAM'],
      [504, 'E_TIMEOUT'],
      [529, 'E_UPSTREAM'],
    ];
    for (const [status, code] of cases) {
      const error = Anthropic.APIError.generate(status, { type: 'error', error: { type: 'x', message: `status ${status}` } }, undefined, headers());
      expect([status, classified(error, anthropic).code]).toEqual([status, code]);
    }
  });

  it('timeouts, aborts and connection failures', () => {
    expect(classified(new OpenAI.APIConnectionTimeoutError(), openai).code).toBe('E_TIMEOUT');
    expect(classified(new Anthropic.APIConnectionTimeoutError(), anthropic).code).toBe('E_TIMEOUT');
    // Our own deadline aborts the SDK call, which then throws its abort error: still a timeout.
    expect(classified(new OpenAI.APIUserAbortError(), { ...openai, timedOut: true }).code).toBe('E_TIMEOUT');
    expect(classified(new OpenAI.APIUserAbortError(), openai).code).toBe('E_CANCELLED');
    expect(classified(new Error('anything'), { ...anthropic, cancelled: true })).toMatchObject({ code: 'E_CANCELLED', message: 'Claude-compatible request cancelled' });
    const refused = new Anthropic.APIConnectionError({ message: 'Connection error.', cause: new Error('connect ECONNREFUSED 127.0.0.1:9') });
    expect(classified(refused, anthropic)).toMatchObject({ code: 'E_NETWORK', message: 'Claude-compatible connection failed: connect ECONNREFUSED 127.0.0.1:9' });
  });

  it('never repeats the key and keeps messages short', () => {
    const leaky = OpenAI.APIError.generate(401, { error: { message: `Incorrect API key provided: ${KEY}. Also sk-abcdefghijklmnopqrstuv is wrong.` } }, undefined, headers());
    const result = classified(leaky, openai);
    expect(result.message).toBe('OpenAI-compatible API answered HTTP 401: Incorrect API key provided: [redacted]. Also [redacted] is wrong.');
    const long = Anthropic.APIError.generate(500, { type: 'error', error: { type: 'api_error', message: 'x'.repeat(1000) } }, undefined, headers());
    const cut = classified(long, anthropic).message;
    expect(cut).toBe(`Claude-compatible API answered HTTP 500: ${'x'.repeat(300)}…`);
  });

  it('passes a BunchError through and calls a body that is not JSON malformed', () => {
    const ours = new BunchError('E_NO_IMAGE', 'no image in the answer');
    expect(classifySdkError(ours, openai)).toBe(ours);
    expect(classified(new SyntaxError('Unexpected token < in JSON'), openai)).toMatchObject({ code: 'E_MALFORMED_RESPONSE' });
  });

  it("OpenAI's insufficient_quota 429 (no credit left) is E_PRECONDITION, which stops the run, not a rate limit to wait out", () => {
    const broke = OpenAI.APIError.generate(
      429,
      { error: { message: 'You exceeded your current quota, please check your plan and billing details.', type: 'insufficient_quota', code: 'insufficient_quota' } },
      undefined,
      headers({ 'retry-after': '20' }),
    );
    expect(classified(broke, openai)).toEqual({
      code: 'E_PRECONDITION',
      message: 'OpenAI-compatible API answered HTTP 429: You exceeded your current quota, please check your plan and billing details.',
      status: 429,
      retryAfterMs: undefined,
      reason: undefined,
    });
  });

  it('a gateway that copies only the insufficient_quota type (code null) is read the same', () => {
    const broke = OpenAI.APIError.generate(429, { error: { message: 'No credit left', type: 'insufficient_quota', code: null } }, undefined, headers());
    expect(classified(broke, openai).code).toBe('E_PRECONDITION');
    const limited = OpenAI.APIError.generate(429, { error: { message: 'Slow down', type: 'requests', code: null } }, undefined, headers());
    expect(classified(limited, openai).code).toBe('E_RATE_LIMITED');
  });

  it('a BunchError our fetch raised inside the SDK (the body cap) comes out as itself', () => {
    const ours = new BunchError('E_RESPONSE_TOO_LARGE', 'response body is larger than the cap');
    expect(classifySdkError(new OpenAI.APIConnectionError({ message: 'Connection error.', cause: ours }), openai)).toBe(ours);
    expect(classifySdkError(new Anthropic.APIConnectionError({ message: 'Connection error.', cause: ours }), anthropic)).toBe(ours);
  });
});
