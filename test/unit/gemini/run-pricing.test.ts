import { describe, expect, it } from 'vitest';
import { chargedUsd, estimatedCallUsd, imagePriceUsd, type RunPricing } from '../../../src/gemini/run-pricing.js';

const TABLE: RunPricing = { usdPerImage: 0.0672, batchDiscount: 0.5, byVariant: { hero: 0.0672, thumb: 0.04482 }, tokens: { input: 0.5, text: 3 } };
const FLAT: RunPricing = { usdPerImage: 0.058, batchDiscount: 0.5 };
const usage = { promptTokens: 1134, outputTokens: 1130, thoughtsTokens: 200, totalTokens: 2464, imageTokens: 1120 };

describe('run pricing', () => {
  it('prices an answer by the table: image by variant size, input, caption and thinking tokens', () => {
    // 0.0672 + (1134 × 0.5 + (10 + 200) × 3) / 1e6 = 0.0672 + 0.000567 + 0.00063
    expect(chargedUsd(TABLE, 'sync', 'hero', usage, 1)).toBe(0.068397);
    expect(chargedUsd(TABLE, 'sync', 'thumb', usage, 1)).toBe(0.046017);
    expect(chargedUsd(TABLE, 'batch', 'hero', usage, 1)).toBe(0.034199);
  });

  it('counts thinking tokens even when no image came back, and text-only answers by their tokens', () => {
    const textOnly = { promptTokens: 1000, outputTokens: 80, thoughtsTokens: 150, totalTokens: 1230 };
    expect(chargedUsd(TABLE, 'sync', 'hero', textOnly, 0)).toBe(0.00119);
  });

  it('charges a flat price per answered request, whatever the tokens', () => {
    expect(chargedUsd(FLAT, 'sync', 'hero', usage, 1)).toBe(0.058);
    expect(chargedUsd(FLAT, 'batch', 'hero', usage, 0)).toBe(0.029);
  });

  it('reserves above the image price before a call, and at the dearest variant when none is named', () => {
    // 0.0672 + (16,000 × 0.5 + 4,000 × 3) / 1e6
    expect(estimatedCallUsd(TABLE, 'sync', 'hero')).toBe(0.0872);
    expect(estimatedCallUsd(TABLE, 'sync', 'hero', false)).toBe(0.02);
    expect(imagePriceUsd(TABLE, undefined)).toBe(0.0672);
    expect(estimatedCallUsd(FLAT, 'batch', undefined)).toBe(0.029);
  });
});
