import { describe, expect, it } from 'vitest';
import { addUsage, costUsd, usdPerImage, ZERO_USAGE } from '../../../src/gemini/usage-cost.js';

describe('usage cost', () => {
  it('sync lane pays the full price', () => {
    expect(costUsd({ lane: 'sync', usdPerImage: 0.0672, batchDiscount: 0.5, images: 3 })).toBe(0.2016);
  });

  it('batch lane takes the discount', () => {
    expect(costUsd({ lane: 'batch', usdPerImage: 0.0672, batchDiscount: 0.5, images: 3 })).toBe(0.1008);
  });

  it('rounds to micro-dollars (no float noise)', () => {
    expect(costUsd({ lane: 'sync', usdPerImage: 0.1, batchDiscount: 0, images: 3 })).toBe(0.3);
  });

  it('zero images cost nothing', () => {
    expect(costUsd({ lane: 'batch', usdPerImage: 0.134, batchDiscount: 0.5, images: 0 })).toBe(0);
  });

  it('rejects nonsense', () => {
    expect(() => costUsd({ lane: 'sync', usdPerImage: -1, batchDiscount: 0, images: 1 })).toThrow(RangeError);
    expect(() => costUsd({ lane: 'batch', usdPerImage: 1, batchDiscount: 1.5, images: 1 })).toThrow(RangeError);
  });

  it('prices one image from the model catalog', () => {
    expect(usdPerImage('gemini-3.1-flash-image-preview', '1K')).toBe(0.0672);
    expect(usdPerImage('models/gemini-3-pro-image-preview', '4K')).toBe(0.24);
    expect(usdPerImage('gemini-3-pro-image-preview', '512')).toBeUndefined();
    expect(usdPerImage('unknown-model', '1K')).toBeUndefined();
  });

  it('adds usage, keeping imageTokens when any side has it', () => {
    const a = { promptTokens: 10, outputTokens: 1120, thoughtsTokens: 5, totalTokens: 1135, imageTokens: 1120 };
    expect(addUsage(a, ZERO_USAGE)).toEqual(a);
    expect(addUsage(ZERO_USAGE, ZERO_USAGE)).toEqual({ promptTokens: 0, outputTokens: 0, thoughtsTokens: 0, totalTokens: 0 });
  });
});
