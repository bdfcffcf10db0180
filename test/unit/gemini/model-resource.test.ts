import { describe, expect, it } from 'vitest';
import { readModelResource } from '../../../src/gemini/model-resource.js';

describe('readModelResource', () => {
  it('keeps the name, methods and token limits of a Model resource', () => {
    const model = readModelResource({
      name: 'models/gemini-3-pro-image-preview',
      version: '2.0',
      displayName: 'Nano Banana Pro',
      inputTokenLimit: 65536,
      outputTokenLimit: 32768,
      supportedGenerationMethods: ['generateContent', 'countTokens', 'batchGenerateContent', 7],
      topK: 64,
    });
    expect(model).toEqual({
      name: 'models/gemini-3-pro-image-preview',
      displayName: 'Nano Banana Pro',
      inputTokenLimit: 65536,
      outputTokenLimit: 32768,
      supportedGenerationMethods: ['generateContent', 'countTokens', 'batchGenerateContent'],
    });
  });

  it('a body without a name is not a Model: E_MALFORMED_RESPONSE', () => {
    for (const body of [undefined, {}, [], 'models/x', { name: '' }]) {
      expect(() => readModelResource(body)).toThrow(expect.objectContaining({ code: 'E_MALFORMED_RESPONSE' }));
    }
  });
});
