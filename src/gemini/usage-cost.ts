import { findImageModel, type ImageSize } from './model-catalog.js';
import type { GenerateUsage } from './parse-generate-response.js';

/**
 * What generated images cost, for budgets and the manifest. Prices are per output image (image
 * tokens × the model's rate); the Batch API bills the same tokens at a discount (50% today).
 * Amounts are rounded to micro-dollars so sums over 500k items do not drift with float noise.
 */
export interface CostInput {
  lane: 'sync' | 'batch';
  usdPerImage: number;
  /** Fraction taken off in the batch lane, e.g. 0.5. Ignored for the sync lane. */
  batchDiscount: number;
  images: number;
}

export function roundUsd(usd: number): number {
  return Math.round(usd * 1e6) / 1e6;
}

export function costUsd(input: CostInput): number {
  if (!(input.usdPerImage >= 0) || !(input.images >= 0)) throw new RangeError('usdPerImage and images must be >= 0');
  if (!(input.batchDiscount >= 0 && input.batchDiscount <= 1)) throw new RangeError('batchDiscount must be within [0, 1]');
  const factor = input.lane === 'batch' ? 1 - input.batchDiscount : 1;
  return roundUsd(input.usdPerImage * factor * input.images);
}

/** Standard-tier USD for one output image of a known model and size, or undefined. */
export function usdPerImage(model: string, imageSize: ImageSize): number | undefined {
  const info = findImageModel(model);
  const tokens = info?.imageTokens[imageSize];
  if (!info || tokens === undefined) return undefined;
  return roundUsd((tokens * info.pricing.usdPerMillionImageTokens) / 1_000_000);
}

/** Sums token usage over attempts or items (imageTokens only when some input reports it). */
export function addUsage(a: GenerateUsage, b: GenerateUsage): GenerateUsage {
  const sum: GenerateUsage = {
    promptTokens: a.promptTokens + b.promptTokens,
    outputTokens: a.outputTokens + b.outputTokens,
    thoughtsTokens: a.thoughtsTokens + b.thoughtsTokens,
    totalTokens: a.totalTokens + b.totalTokens,
  };
  if (a.imageTokens !== undefined || b.imageTokens !== undefined) sum.imageTokens = (a.imageTokens ?? 0) + (b.imageTokens ?? 0);
  return sum;
}

export const ZERO_USAGE: Readonly<GenerateUsage> = Object.freeze({
  promptTokens: 0,
  outputTokens: 0,
  thoughtsTokens: 0,
  totalTokens: 0,
});
