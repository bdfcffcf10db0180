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
  const generationConfig: GenerationConfig = { responseModalities: [...job.generation.responseModalities] };
  // Text-only answers have no image to shape; non-native protocols cannot carry imageConfig.
  if (job.generation.responseModalities.includes('IMAGE') && job.protocol === 'gemini') {
    generationConfig.imageConfig = {
      aspectRatio: variant.aspectRatio,
      ...(variant.sendImageSize ? { imageSize: variant.imageSize } : {}),
    };
  }
  if (job.generation.temperature !== undefined) generationConfig.temperature = job.generation.temperature;
  if (job.generation.seed !== undefined) generationConfig.seed = job.generation.seed;
  const thinking = thinkingConfigOf(job);
  if (thinking) generationConfig.thinkingConfig = thinking;
  if (job.caption) {
    generationConfig.responseMimeType = 'application/json';
    generationConfig.responseJsonSchema = job.caption.schema;
  }
  const request: GenerateContentRequest = {
    // The prompt first, then the reference images (as the image-editing documentation orders them);
    // placeholders name the images by content hash (see reference-placeholder.ts).
    contents: [{ role: 'user', parts: [{ text: prompt }, ...references.map((reference): RequestPart => referencePlaceholder(reference.sha256, reference.mimeType))] }],
    generationConfig,
  };
  const system = systemInstructionOf(job);
  if (system) request.systemInstruction = system;
  const tools = toolsOf(job);
  if (tools) request.tools = tools;
  return request;
}

function thinkingConfigOf(job: ResolvedJob): GenerationConfig['thinkingConfig'] {
  const { thinkingLevel, includeThoughts } = job.generation;
  if (thinkingLevel === undefined && !includeThoughts) return undefined;
  return { ...(thinkingLevel !== undefined ? { thinkingLevel } : {}), ...(includeThoughts ? { includeThoughts: true } : {}) };
}

/** Google Search grounding: plain web search is `googleSearch: {}`; image search names its search types. */
function toolsOf(job: ResolvedJob): GenerateContentRequest['tools'] {
  const grounding = job.grounding;
  if (!grounding) return undefined;
  if (grounding.webSearch && !grounding.imageSearch) return [{ googleSearch: {} }];
  return [{ googleSearch: { searchTypes: { ...(grounding.webSearch ? { webSearch: {} } : {}), ...(grounding.imageSearch ? { imageSearch: {} } : {}) } } }];
}

/** The request's systemInstruction for a job (the same for every item), or undefined. */
export function systemInstructionOf(job: Pick<ResolvedJob, 'system'>): { parts: { text: string }[] } | undefined {
  return job.system !== undefined && job.system.trim() !== '' ? { parts: [{ text: job.system }] } : undefined;
}
