import type { ResolvedJob, ResolvedVariant } from '../spec/resolved-job.js';
import type { GenerateContentRequest, GenerationConfig } from './generate-content-request.js';

/**
 * The generateContent body for one item. Optional members are left out rather than set to
 * undefined, so the JSON (and the inputHash) only changes when the settings do.
 */
export function buildRequest(job: ResolvedJob, variant: ResolvedVariant, prompt: string): GenerateContentRequest {
  const generationConfig: GenerationConfig = {
    responseModalities: [...job.generation.responseModalities],
    imageConfig: {
      aspectRatio: variant.aspectRatio,
      ...(variant.sendImageSize ? { imageSize: variant.imageSize } : {}),
    },
  };
  if (job.generation.temperature !== undefined) generationConfig.temperature = job.generation.temperature;
  if (job.generation.seed !== undefined) generationConfig.seed = job.generation.seed;
  if (job.generation.thinkingLevel !== undefined) generationConfig.thinkingConfig = { thinkingLevel: job.generation.thinkingLevel };
  const request: GenerateContentRequest = {
    contents: [{ role: 'user', parts: [{ text: prompt }] }],
    generationConfig,
  };
  if (job.system !== undefined && job.system.trim() !== '') request.systemInstruction = { parts: [{ text: job.system }] };
  return request;
}
