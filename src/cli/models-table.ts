import { IMAGE_MODELS, type ImageModelInfo, type ImageSize } from '../gemini/model-catalog.js';
import { roundUsd } from '../gemini/usage-cost.js';

/** What `bunch models` prints: the model table, one block per model (text) or the entries (JSON). */
export function modelsAsJson(): ImageModelInfo[] {
  return Object.values(IMAGE_MODELS).map((model) => structuredClone(model));
}

export function modelsAsText(): string {
  return Object.values(IMAGE_MODELS).map(modelBlock).join('\n');
}

function modelBlock(model: ImageModelInfo): string {
  const price = (size: ImageSize): string => {
    const tokens = model.imageTokens[size] ?? 0;
    const usd = roundUsd((tokens * model.pricing.usdPerMillionImageTokens) / 1_000_000);
    const batch = roundUsd(usd * (1 - model.pricing.batchDiscount));
    return `${size} ${tokens} tokens $${usd} (batch $${batch})`;
  };
  const pixels = (size: ImageSize): string =>
    model.aspectRatios
      .map((ratio) => {
        const dims = model.pixels[ratio]?.[size];
        return dims ? `${ratio} ${dims[0]}x${dims[1]}` : undefined;
      })
      .filter((entry) => entry !== undefined)
      .join(', ');
  const search = [model.grounding.webSearch ? 'web' : undefined, model.grounding.imageSearch ? 'image' : undefined].filter(Boolean);
  const lines = [
    `${model.id} — ${model.displayName}`,
    `  aspect ratios      ${model.aspectRatios.join(' ')}`,
    `  image sizes        ${model.imageSizes.join(' ')}`,
    ...model.imageSizes.map((size) => `  pixels ${size.padEnd(11)} ${pixels(size)}`),
    `  price per image    ${model.imageSizes.map(price).join('; ')}`,
    `  token rates        input $${model.pricing.usdPerMillionInputTokens}/M, text and thinking $${model.pricing.usdPerMillionTextTokens}/M, image $${model.pricing.usdPerMillionImageTokens}/M (batch ${Math.round(model.pricing.batchDiscount * 100)}% off)`,
    `  input limit        ${model.inputTokenLimit} tokens; ${model.inputImageTokens} tokens per reference image`,
    `  references         up to ${model.maxReferenceImages} (objects ${model.maxObjectImages ?? '-'}, characters ${model.maxCharacterImages ?? '-'})`,
    `  thinking           ${model.thinkingLevels.length ? model.thinkingLevels.map((level) => level.toLowerCase()).join(', ') : 'no'}`,
    `  search grounding   ${search.length ? search.join(' and ') : 'no'}`,
    `  batch lane         ${model.batch ? 'yes' : 'no'}`,
  ];
  return lines.join('\n') + '\n';
}
