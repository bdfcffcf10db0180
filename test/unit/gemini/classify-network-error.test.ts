import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { BunchError } from '../../../src/errors/bunch-error.js';
import { classifyNetworkError } from '../../../src/gemini/classify-outcome.js';

function withCode(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

/** A port nobody listens on: bind, read the port, close. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

describe('classifyNetworkError', () => {
  it('our deadline is a retryable E_TIMEOUT whatever the error looks like', () => {
    const error = classifyNetworkError(new DOMException('This operation was aborted', 'AbortError'), { timedOut: true });
    expect(error.code).toBe('E_TIMEOUT');
    expect(error.retryable).toBe(true);
  });

  it('the caller cancelling is E_CANCELLED, not retryable', () => {
    const error = classifyNetworkError(new DOMException('aborted', 'AbortError'), { timedOut: false, cancelled: true });
    expect(error.code).toBe('E_CANCELLED');
    expect(error.retryable).toBe(false);
  });

  it('a real refused connection from fetch is E_NETWORK', async () => {
    const port = await closedPort();
    const failure = await fetch(`http://127.0.0.1:${port}/`).then(
      () => undefined,
      (error: unknown) => error,
    );
    const error = classifyNetworkError(failure, { timedOut: false });
    expect(error.code).toBe('E_NETWORK');
    expect(error.retryable).toBe(true);
    expect(error.message).toContain('ECONNREFUSED');
  });

  it.each(['ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_SOCKET'])('fetch failed caused by %s is E_NETWORK', (code) => {
    const failure = new TypeError('fetch failed', { cause: withCode('socket trouble', code) });
    expect(classifyNetworkError(failure, { timedOut: false }).code).toBe('E_NETWORK');
  });

  it('a socket closed while reading the body is a truncated answer: E_MALFORMED_RESPONSE', () => {
    const failure = new TypeError('terminated', { cause: withCode('other side closed', 'UND_ERR_SOCKET') });
    const error = classifyNetworkError(failure, { timedOut: false, duringBody: true });
    expect(error.code).toBe('E_MALFORMED_RESPONSE');
    expect(error.retryable).toBe(true);
    expect(error.message).toContain('truncated');
  });

  it('a real JSON parse failure is E_MALFORMED_RESPONSE', () => {
    let failure: unknown;
    try {
      JSON.parse('{"candidates":[{"content":');
    } catch (error) {
      failure = error;
    }
    const error = classifyNetworkError(failure, { timedOut: false, duringBody: true });
    expect(error.code).toBe('E_MALFORMED_RESPONSE');
    expect(error.message.startsWith('response body is not valid JSON')).toBe(true);
  });

  it("undici's own header/body timeouts are E_TIMEOUT", () => {
    const failure = new TypeError('fetch failed', { cause: withCode('Headers Timeout Error', 'UND_ERR_HEADERS_TIMEOUT') });
    expect(classifyNetworkError(failure, { timedOut: false }).code).toBe('E_TIMEOUT');
  });

  it('passes a BunchError through unchanged', () => {
    const original = new BunchError('E_RATE_LIMITED', 'HTTP 429', { retryAfterMs: 1000 });
    expect(classifyNetworkError(original, { timedOut: true })).toBe(original);
  });

  it('masks secrets in the message', () => {
    const failure = new TypeError('fetch failed', { cause: withCode('bad url https://x/?key=AIzaSecretSecretSecret123456', 'ENOTFOUND') });
    const error = classifyNetworkError(failure, { timedOut: false, secrets: ['AIzaSecretSecretSecret123456'] });
    expect(error.message).not.toContain('AIzaSecretSecretSecret123456');
  });
});
