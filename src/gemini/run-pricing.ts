import type { GenerateUsage } from './parse-generate-response.js';
import { roundUsd } from './usage-cost.js';

/**
 * How a run prices its calls. Two ways, chosen by the job file:
 * - **flat** (`pricing.usdPerImage` set): an all-in price per answered request, as gateways that
 *   sell images at a fixed price charge; tokens are not priced.
 * - **by the model table** (no `usdPerImage`): what Google bills — each output image at the table's
 *   price for its size, plus input tokens (prompt and reference images) and text and thinking
 *   tokens at the table's rates. Thinking tokens are billed even when thoughts are not returned.
 * The Batch API takes `batchDiscount` off everything.
 */
export interface RunPricing {
  /** Standard-tier USD per image: the flat price, or the table's price at the first variant's size. */
  usdPerImage: number;
  batchDiscount: number;
  /** Standard-tier USD per image by variant (sizes differ); absent in flat pricing. */
  byVariant?: Record<string, number>;
  /** Token rates (USD per million) from the model table; absent means flat pricing. */
  tokens?: { input: number; text: number };
}

/**
 * Tokens a request is assumed to use beyond its image when reserving budget before the call:
 * a long prompt with references, and a generous thinking allowance. The actual charge replaces
 * the reservation once the answer is in.
 */
type Lane = 'sync' | 'batch';

const RESERVED_INPUT_TOKENS = 16_000;
const RESERVED_TEXT_TOKENS = 4_000;

function laneFactor(pricing: RunPricing, lane: Lane): number {
  return lane === 'batch' ? 1 - pricing.batchDiscount : 1;
}

/** Standard-tier price of one output image of this variant; of the dearest variant when none is named. */
export function imagePriceUsd(pricing: RunPricing, variant: string | undefined): number {
  if (variant === undefined) return Math.max(pricing.usdPerImage, ...Object.values(pricing.byVariant ?? {}));
  return pricing.byVariant?.[variant] ?? pricing.usdPerImage;
}

/** What one call is assumed to cost before it is made (budget reservations, dry-run estimates). */
export function estimatedCallUsd(pricing: RunPricing, lane: Lane, variant: string | undefined, wantImage = true): number {
  const image = wantImage || !pricing.tokens ? imagePriceUsd(pricing, variant) : 0;
  if (!pricing.tokens) return roundUsd(image * laneFactor(pricing, lane));
  const tokens = (RESERVED_INPUT_TOKENS * pricing.tokens.input + RESERVED_TEXT_TOKENS * pricing.tokens.text) / 1_000_000;
  return roundUsd((image + tokens) * laneFactor(pricing, lane));
}

/** What an answered call cost, from the usage it reported. */
export function chargedUsd(pricing: RunPricing, lane: Lane, variant: string, usage: GenerateUsage, images: number): number {
  if (!pricing.tokens) return roundUsd(pricing.usdPerImage * laneFactor(pricing, lane));
  const imageUsd = images * imagePriceUsd(pricing, variant);
  // Caption text is output text; without the per-modality split it cannot be told from image tokens.
  const textTokens = usage.imageTokens !== undefined ? Math.max(0, usage.outputTokens - usage.imageTokens) : images > 0 ? 0 : usage.outputTokens;
  const tokenUsd = (usage.promptTokens * pricing.tokens.input + (textTokens + usage.thoughtsTokens) * pricing.tokens.text) / 1_000_000;
  return roundUsd((imageUsd + tokenUsd) * laneFactor(pricing, lane));
}
