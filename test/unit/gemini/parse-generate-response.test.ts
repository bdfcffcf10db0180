import { describe, expect, it } from 'vitest';
import { isBunchError } from '../../../src/errors/bunch-error.js';
import { parseGenerateResponse } from '../../../src/gemini/parse-generate-response.js';

const FINAL_PNG = 'iVBORw0KGgoAAAANSUhEUgAA';
const THOUGHT_PNG = 'iVBORw0KGgoTHOUGHT';

const fullResponse = {
  candidates: [
    {
      content: {
        role: 'model',
        parts: [
          { text: 'Planning the composition…', thought: true },
          { inlineData: { mimeType: 'image/png', data: THOUGHT_PNG }, thought: true },
          { text: 'Here is your marble product shot.', thoughtSignature: 'c2ln' },
          { inlineData: { mimeType: 'image/png', data: FINAL_PNG }, thoughtSignature: 'c2ln' },
          { text: 'Soft daylight from the left.' },
        ],
      },
      finishReason: 'STOP',
      index: 0,
      safetyRatings: [],
    },
  ],
  usageMetadata: {
    promptTokenCount: 21,
    candidatesTokenCount: 1133,
    thoughtsTokenCount: 140,
    totalTokenCount: 1294,
    promptTokensDetails: [{ modality: 'TEXT', tokenCount: 21 }],
    candidatesTokensDetails: [
      { modality: 'TEXT', tokenCount: 13 },
      { modality: 'IMAGE', tokenCount: 1120 },
    ],
  },
  modelVersion: 'gemini-3.1-flash-image-preview',
  responseId: 'resp-abc-1',
  modelStatus: { modelStage: 'PREVIEW' },
};

function expectMalformed(json: unknown): void {
  try {
    parseGenerateResponse(json);
  } catch (error) {
    expect(isBunchError(error, 'E_MALFORMED_RESPONSE')).toBe(true);
    expect((error as { retryable: boolean }).retryable).toBe(true);
    return;
  }
  throw new Error('expected E_MALFORMED_RESPONSE');
}

describe('parseGenerateResponse', () => {
  it('keeps final image and text parts, drops thought parts, reads usage and ids', () => {
    expect(parseGenerateResponse(fullResponse)).toEqual({
      images: [{ mimeType: 'image/png', base64: FINAL_PNG }],
      thoughts: { texts: ['Planning the composition…'], images: [{ mimeType: 'image/png', base64: THOUGHT_PNG }] },
      turn: [
        { text: 'Here is your marble product shot.', thoughtSignature: 'c2ln' },
        { inlineData: { mimeType: 'image/png', data: FINAL_PNG }, thoughtSignature: 'c2ln' },
        { text: 'Soft daylight from the left.' },
      ],
      text: 'Here is your marble product shot.\nSoft daylight from the left.',
      finishReason: 'STOP',
      usage: { promptTokens: 21, outputTokens: 1133, thoughtsTokens: 140, totalTokens: 1294, imageTokens: 1120 },
      modelVersion: 'gemini-3.1-flash-image-preview',
      responseId: 'resp-abc-1',
    });
  });

  it('keeps the grounding metadata of a grounded answer as sent', () => {
    const groundingMetadata = { webSearchQueries: ['oak desk'], groundingChunks: [{ web: { uri: 'https://example.com/a', title: 'A' } }] };
    const parsed = parseGenerateResponse({ candidates: [{ content: { parts: [{ text: 'ok' }] }, finishReason: 'STOP', groundingMetadata }] });
    expect(parsed.groundingMetadata).toEqual(groundingMetadata);
  });

  it('counts the search results a grounded model read (toolUsePromptTokenCount) as input tokens', () => {
    const parsed = parseGenerateResponse({
      candidates: [{ content: { parts: [{ text: 'ok' }] }, finishReason: 'STOP' }],
      usageMetadata: { promptTokenCount: 40, toolUsePromptTokenCount: 288, candidatesTokenCount: 2, totalTokenCount: 330 },
    });
    expect(parsed.usage).toEqual({ promptTokens: 328, outputTokens: 2, thoughtsTokens: 0, totalTokens: 330 });
  });

  it('reads a prompt block (no candidates, HTTP 200)', () => {
    const parsed = parseGenerateResponse({
      promptFeedback: { blockReason: 'PROHIBITED_CONTENT', safetyRatings: [] },
      usageMetadata: { promptTokenCount: 9, totalTokenCount: 9 },
    });
    expect(parsed).toEqual({
      images: [],
      thoughts: { texts: [], images: [] },
      turn: [],
      text: '',
      blockReason: 'PROHIBITED_CONTENT',
      usage: { promptTokens: 9, outputTokens: 0, thoughtsTokens: 0, totalTokens: 9 },
    });
  });

  it('accepts a candidate without content (IMAGE_SAFETY) and counts given as strings', () => {
    const parsed = parseGenerateResponse({
      candidates: [{ finishReason: 'IMAGE_SAFETY' }],
      usageMetadata: { promptTokenCount: '12', totalTokenCount: '12' },
    });
    expect(parsed.finishReason).toBe('IMAGE_SAFETY');
    expect(parsed.images).toEqual([]);
    expect(parsed.usage).toEqual({ promptTokens: 12, outputTokens: 0, thoughtsTokens: 0, totalTokens: 12 });
  });

  it('ignores non-image inline data and uses only the first candidate', () => {
    const parsed = parseGenerateResponse({
      candidates: [
        { content: { parts: [{ inlineData: { mimeType: 'audio/wav', data: 'AAAA' } }] }, finishReason: 'STOP' },
        { content: { parts: [{ inlineData: { mimeType: 'image/png', data: 'AAAA' } }] }, finishReason: 'STOP' },
      ],
    });
    expect(parsed.images).toEqual([]);
  });

  it.each([
    ['null', null],
    ['a string', 'hello'],
    ['an array', []],
    ['candidates not an array', { candidates: {} }],
    ['parts not an array', { candidates: [{ content: { parts: 'x' } }] }],
    ['inlineData.data not a string', { candidates: [{ content: { parts: [{ inlineData: { mimeType: 'image/png', data: 5 } }] } }] }],
    ['negative token count', { usageMetadata: { promptTokenCount: -1 } }],
    ['thought not a boolean', { candidates: [{ content: { parts: [{ text: 'x', thought: 'yes' }] } }] }],
  ])('rejects %s with E_MALFORMED_RESPONSE', (_name, json) => {
    expectMalformed(json);
  });
});
