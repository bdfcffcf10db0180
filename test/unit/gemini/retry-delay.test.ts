import { describe, expect, it } from 'vitest';
import { parseDurationMs, parseRetryAfterHeader, retryInfoDelayMs } from '../../../src/gemini/retry-delay.js';

describe('retry delay parsing', () => {
  it.each([
    ['47s', 47_000],
    ['1.5s', 1500],
    ['0.300s', 300],
    ['300ms', 300],
    ['0s', 0],
  ])('duration %s is %i ms', (text, ms) => {
    expect(parseDurationMs(text)).toBe(ms);
  });

  it('reads the {seconds, nanos} form', () => {
    expect(parseDurationMs({ seconds: '2', nanos: 500_000_000 })).toBe(2500);
  });

  it.each(['', 'soon', '-1s', '5', '1.2.3s'])('rejects %j', (text) => {
    expect(parseDurationMs(text)).toBeUndefined();
  });

  it('finds RetryInfo among other details and ignores unrelated ones', () => {
    expect(retryInfoDelayMs([{ '@type': 'x' }, { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '2s' }])).toBe(2000);
    expect(retryInfoDelayMs([{ retryDelay: '2s' }])).toBeUndefined();
    expect(retryInfoDelayMs(undefined)).toBeUndefined();
  });

  it('reads Retry-After seconds and dates; past dates give 0; junk gives undefined', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfterHeader('7', now)).toBe(7000);
    expect(parseRetryAfterHeader('Thu, 01 Jan 2026 00:01:00 GMT', now)).toBe(60_000);
    expect(parseRetryAfterHeader('Wed, 31 Dec 2025 23:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfterHeader('later', now)).toBeUndefined();
    expect(parseRetryAfterHeader('1.5', now)).toBeUndefined();
    expect(parseRetryAfterHeader(null, now)).toBeUndefined();
  });
});
