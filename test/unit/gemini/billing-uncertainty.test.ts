import { describe, expect, it } from 'vitest';
import { BunchError } from '../../../src/errors/bunch-error.js';
import { mayHaveBeenBilled } from '../../../src/gemini/billing-uncertainty.js';

const socketError = (code: string) => Object.assign(new Error(code), { code });

describe('mayHaveBeenBilled', () => {
  it('is true when the request reached the model and its answer was lost', () => {
    expect(mayHaveBeenBilled(new BunchError('E_TIMEOUT', 'request timed out'))).toBe(true);
    expect(mayHaveBeenBilled(new BunchError('E_TIMEOUT', 'HTTP 504', { status: 504 }))).toBe(true);
    expect(mayHaveBeenBilled(new BunchError('E_MALFORMED_RESPONSE', 'response body truncated'))).toBe(true);
    expect(mayHaveBeenBilled(new BunchError('E_RESPONSE_TOO_LARGE', 'over 64 MB'))).toBe(true);
    expect(mayHaveBeenBilled(new BunchError('E_NETWORK', 'network error', { cause: new TypeError('fetch failed', { cause: socketError('ECONNRESET') }) }))).toBe(true);
  });

  it('is false for answers that say no, and for requests that never connected', () => {
    expect(mayHaveBeenBilled(new BunchError('E_TIMEOUT', 'HTTP 408', { status: 408 }))).toBe(false);
    expect(mayHaveBeenBilled(new BunchError('E_RATE_LIMITED', 'HTTP 429', { status: 429 }))).toBe(false);
    expect(mayHaveBeenBilled(new BunchError('E_UPSTREAM', 'HTTP 503', { status: 503 }))).toBe(false);
    expect(mayHaveBeenBilled(new BunchError('E_NETWORK', 'network error', { cause: new TypeError('fetch failed', { cause: socketError('ECONNREFUSED') }) }))).toBe(false);
    expect(mayHaveBeenBilled(new BunchError('E_NETWORK', 'dns', { cause: socketError('ENOTFOUND') }))).toBe(false);
  });
});
