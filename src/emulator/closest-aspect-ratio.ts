import { DEFAULT_ASPECT_RATIO, type ImageModelInfo } from '../gemini/model-catalog.js';

/** Without an explicit aspectRatio the API matches the input image's shape: the model's nearest ratio. */
export function closestAspectRatio(model: ImageModelInfo, size: { width: number; height: number }): string {
  const target = Math.log(size.width / size.height);
  let best = DEFAULT_ASPECT_RATIO;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const ratio of model.aspectRatios) {
    const [w = 1, h = 1] = ratio.split(':').map(Number);
    const distance = Math.abs(Math.log(w / h) - target);
    if (distance < bestDistance) {
      best = ratio;
      bestDistance = distance;
    }
  }
  return best;
}
