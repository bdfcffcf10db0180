import type { ResolvedJob, ResolvedVariant } from '../spec/resolved-job.js';
import type { StoredReference } from '../references/item-reference.js';
import { referencePlaceholder } from '../references/reference-placeholder.js';
import type { GenerateContentRequest, GenerationConfig, RequestPart } from '../gemini/generate-content-request.js';

/**
 * The generateContent body for one item. Optional members are left out rather than set to
 * undefined, so the JSON (and the inputHash) only changes when the settings do.
 */
export function buildRequest(
  job: ResolvedJob,
  variant: ResolvedVariant,
  prompt: string,
  references: readonly StoredReference[] = [],
): GenerateContentRequest {
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
    // The prompt first, then the reference images (as the image-editing documentation orders them);
    // placeholders name the images by content hash (see reference-placeholder.ts).
    contents: [{ role: 'user', parts: [{ text: prompt }, ...references.map((reference): RequestPart => referencePlaceholder(reference.sha256, reference.mimeType))] }],
    generationConfig,
  };
  const system = systemInstructionOf(job);
  if (system) request.systemInstruction = system;
  return request;
}

/** The request's systemInstruction for a job (the same for every item), or undefined. */
export function systemInstructionOf(job: Pick<ResolvedJob, 'system'>): { parts: { text: string }[] } | undefined {
  return job.system !== undefined && job.system.trim() !== '' ? { parts: [{ text: job.system }] } : undefined;
}
