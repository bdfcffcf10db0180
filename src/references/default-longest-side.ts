/**
 * How large a reference image is worth sending to each model. The Gemini 3 image models read
 * input images at their high media resolution (a fixed token budget per image), and produce at
 * most 4K; a 2K longest side keeps product detail while a 6000-pixel camera original would only
 * cost upload bytes and request size. Gemini 2.5 Flash Image works in the 1024-pixel class.
 */
const LONGEST_SIDE_BY_MODEL: Readonly<Record<string, number>> = {
  'gemini-3.1-flash-image-preview': 2048,
  'gemini-3-pro-image-preview': 2048,
  'gemini-2.5-flash-image': 1536,
};

export function defaultReferenceLongestSide(model: string): number {
  return LONGEST_SIDE_BY_MODEL[model] ?? 2048;
}
