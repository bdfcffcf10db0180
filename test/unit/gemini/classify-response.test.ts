import { describe, expect, it } from 'vitest';
import { classifyResponse } from '../../../src/gemini/classify-outcome.js';
import { FINISH_REASONS } from '../../../src/gemini/finish-reason.js';
import type { ParsedGenerateResponse } from '../../../src/gemini/parse-generate-response.js';

const usage = { promptTokens: 1, outputTokens: 1, thoughtsTokens: 0, totalTokens: 2 };
const image = { mimeType: 'image/png', base64: 'AAAA' };

function answer(fields: Partial<ParsedGenerateResponse>): ParsedGenerateResponse {
  return { images: [], thoughts: { texts: [], images: [] }, turn: [], text: '', usage, ...fields };
}

describe('classifyResponse', () => {
  it('an image with STOP is fine', () => {
    expect(classifyResponse(answer({ images: [image], finishReason: 'STOP' }), { wantImage: true })).toBeUndefined();
  });

  it('text with STOP is fine when no image is wanted', () => {
    expect(classifyResponse(answer({ text: 'A caption', finishReason: 'STOP' }), { wantImage: false })).toBeUndefined();
  });

  it.each(['SAFETY', 'OTHER', 'BLOCKLIST', 'PROHIBITED_CONTENT', 'IMAGE_SAFETY'])(
    'blockReason %s is E_SAFETY_BLOCKED, not retryable, with the reason',
    (blockReason) => {
      const error = classifyResponse(answer({ blockReason }), { wantImage: true });
      expect(error?.code).toBe('E_SAFETY_BLOCKED');
      expect(error?.retryable).toBe(false);
      expect(error?.reason).toBe(blockReason);
    },
  );

  it.each(['SAFETY', 'IMAGE_SAFETY', 'PROHIBITED_CONTENT', 'IMAGE_PROHIBITED_CONTENT', 'BLOCKLIST', 'SPII', 'RECITATION', 'IMAGE_RECITATION'])(
    'finishReason %s is E_SAFETY_BLOCKED even if an image slipped through',
    (finishReason) => {
      const error = classifyResponse(answer({ images: [image], finishReason }), { wantImage: true });
      expect(error?.code).toBe('E_SAFETY_BLOCKED');
      expect(error?.retryable).toBe(false);
      expect(error?.reason).toBe(finishReason);
    },
  );

  it.each(['NO_IMAGE', 'IMAGE_OTHER', 'MAX_TOKENS', 'OTHER', 'LANGUAGE', 'FINISH_REASON_UNSPECIFIED', 'TOO_MANY_TOOL_CALLS'])(
    'finishReason %s without an image is a retryable E_NO_IMAGE',
    (finishReason) => {
      const error = classifyResponse(answer({ finishReason }), { wantImage: true });
      expect(error?.code).toBe('E_NO_IMAGE');
      expect(error?.retryable).toBe(true);
      expect(error?.reason).toBe(finishReason);
    },
  );

  it('a text-only answer with STOP when an image was wanted is E_NO_IMAGE', () => {
    const error = classifyResponse(answer({ text: 'I cannot draw that, here is a description', finishReason: 'STOP' }), {
      wantImage: true,
    });
    expect(error?.code).toBe('E_NO_IMAGE');
    expect(error?.message).toBe('model returned text but no image (finishReason STOP)');
  });

  it('no candidates and no block is E_NO_IMAGE without a reason', () => {
    const error = classifyResponse(answer({}), { wantImage: true });
    expect(error?.code).toBe('E_NO_IMAGE');
    expect(error?.reason).toBeUndefined();
  });

  it('MAX_TOKENS with an image is accepted', () => {
    expect(classifyResponse(answer({ images: [image], finishReason: 'MAX_TOKENS' }), { wantImage: true })).toBeUndefined();
  });

  it('MISSING_THOUGHT_SIGNATURE is E_BAD_REQUEST', () => {
    const error = classifyResponse(answer({ finishReason: 'MISSING_THOUGHT_SIGNATURE' }), { wantImage: true });
    expect(error?.code).toBe('E_BAD_REQUEST');
    expect(error?.retryable).toBe(false);
  });

  it('unknown future reasons: refusal-like names are E_SAFETY_BLOCKED, others E_NO_IMAGE or fine', () => {
    expect(classifyResponse(answer({ finishReason: 'IMAGE_SAFETY_V2' }), { wantImage: true })?.code).toBe('E_SAFETY_BLOCKED');
    expect(classifyResponse(answer({ finishReason: 'SOMETHING_NEW' }), { wantImage: true })?.code).toBe('E_NO_IMAGE');
    expect(classifyResponse(answer({ images: [image], finishReason: 'SOMETHING_NEW' }), { wantImage: true })).toBeUndefined();
  });

  it('every known finish reason gets a decision', () => {
    for (const finishReason of FINISH_REASONS) {
      const error = classifyResponse(answer({ finishReason }), { wantImage: true });
      expect(error?.code).toMatch(/^E_(NO_IMAGE|SAFETY_BLOCKED|BAD_REQUEST)$/);
    }
  });
});
