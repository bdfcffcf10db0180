import { describe, expect, it } from 'vitest';
import { BunchError } from '../../../src/errors/bunch-error.js';
import { readBodyHead, readBodyWithin } from '../../../src/gemini/bounded-body.js';

/** A real WHATWG Response over a stream of chunks, with no Content-Length (as a chunked answer arrives). */
function streamed(chunks: Uint8Array[], onPull?: () => void): Response {
  let next = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      onPull?.();
      const chunk = chunks[next++];
      if (chunk) controller.enqueue(chunk);
      else controller.close();
    },
  });
  return new Response(body);
}

async function failure(promise: Promise<unknown>): Promise<BunchError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(BunchError);
    return error as BunchError;
  }
  throw new Error('expected a BunchError');
}

describe('readBodyWithin', () => {
  it('reads a body up to the cap exactly', async () => {
    const body = await readBodyWithin(new Response('x'.repeat(1024), { headers: { 'content-length': '1024' } }), 1024);
    expect(body.toString()).toBe('x'.repeat(1024));
  });

  it('refuses an announced Content-Length over the cap without reading the body', async () => {
    let pulls = 0;
    const response = streamed([new Uint8Array(10)], () => (pulls += 1));
    const headed = new Response(response.body, { headers: { 'content-length': '5000' } });
    const error = await failure(readBodyWithin(headed, 1024));
    expect(error.code).toBe('E_RESPONSE_TOO_LARGE');
    expect(error.retryable).toBe(false);
    expect(error.message).toBe('response body is larger than the cap of 1024 bytes (maxResponseBytes): Content-Length announces 5000 bytes');
    expect(pulls).toBeLessThanOrEqual(1);
  });

  it('counts a body without Content-Length and stops at the first chunk over the cap', async () => {
    let pulls = 0;
    const chunks = Array.from({ length: 100 }, () => new Uint8Array(400));
    const error = await failure(readBodyWithin(streamed(chunks, () => (pulls += 1)), 1000));
    expect(error.code).toBe('E_RESPONSE_TOO_LARGE');
    expect(error.message).toBe('response body is larger than the cap of 1000 bytes (maxResponseBytes): stopped reading after 1200 bytes');
    expect(pulls).toBeLessThan(10);
  });
});

describe('readBodyHead', () => {
  it('returns the first bytes of a long error page and leaves the rest unread', async () => {
    let pulls = 0;
    const chunks = Array.from({ length: 100 }, () => new TextEncoder().encode('a'.repeat(100)));
    const head = await readBodyHead(streamed(chunks, () => (pulls += 1)), 250);
    expect(head).toBe('a'.repeat(250));
    expect(pulls).toBeLessThan(10);
  });
});
