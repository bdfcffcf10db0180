/**
 * Which job settings need the Gemini-native endpoint. Gateways speak three protocols (Gemini-native,
 * OpenAI-compatible, Claude-compatible); imageConfig, grounding, thinking, structured output and
 * the Batch API exist only on the first. A job that asks a non-native protocol for one of them is
 * refused before any call, naming the capability and the field that asks for it.
 */
import type { FieldPath } from './job-source.js';
import type { ParsedJobOptions } from './job-options-schema.js';

export interface NativeOnlyUse {
  field: FieldPath;
  capability: string;
}

/** The first setting of the job that only the Gemini-native protocol can carry, or undefined. */
export function firstNativeOnlyUse(options: ParsedJobOptions): NativeOnlyUse | undefined {
  const imageConfig = options.generation?.imageConfig;
  if (imageConfig && (imageConfig.aspectRatio !== undefined || imageConfig.imageSize !== undefined)) {
    return { field: ['generation', 'imageConfig'], capability: 'imageConfig (aspect ratio and image size)' };
  }
  for (const [index, variant] of (options.variants ?? []).entries()) {
    if (variant.aspectRatio !== undefined) return { field: ['variants', index, 'aspectRatio'], capability: 'imageConfig (aspect ratio and image size)' };
    if (variant.imageSize !== undefined) return { field: ['variants', index, 'imageSize'], capability: 'imageConfig (aspect ratio and image size)' };
  }
  if (options.grounding) return { field: ['grounding'], capability: 'grounding (Google Search)' };
  if (options.generation?.thinkingLevel !== undefined) return { field: ['generation', 'thinkingLevel'], capability: 'thinking' };
  if (options.generation?.includeThoughts !== undefined) return { field: ['generation', 'includeThoughts'], capability: 'thinking' };
  if (options.steps) return { field: ['steps'], capability: 'multi-turn edit steps (thought signatures)' };
  if (options.caption) return { field: ['caption', 'schema'], capability: 'structured captions (responseJsonSchema)' };
  if (options.lane === 'batch' || options.lane === 'auto') return { field: ['lane'], capability: 'the batch lane (Gemini Batch API)' };
  return undefined;
}

/** The refusal, word for word as operators see it after the file and field. */
export function nativeOnlyMessage(protocol: string, capability: string): string {
  return `${capability} needs the Gemini-native endpoint (protocol: gemini); the ${protocol} protocol does not carry it`;
}

/**
 * Sampling settings a protocol cannot carry as asked. They are never dropped (the inputHash
 * covers them, so a dropped seed would be a different image under the same hash): the Messages
 * API has no seed and takes temperature 0–1. (The OpenAI Images API has neither; whether a worker
 * uses it is its BUNCH_OPENAI_MODE, so that refusal is the caller's, before any call.)
 */
export function uncarriedSampling(options: ParsedJobOptions, protocol: 'openai' | 'anthropic'): { field: FieldPath; message: string } | undefined {
  if (protocol !== 'anthropic') return undefined;
  const generation = options.generation;
  if (generation?.seed !== undefined) return { field: ['generation', 'seed'], message: 'the anthropic protocol (Messages API) has no seed' };
  if (generation?.temperature !== undefined && generation.temperature > 1) {
    return { field: ['generation', 'temperature'], message: `the anthropic protocol (Messages API) takes a temperature from 0 to 1, got ${generation.temperature}` };
  }
  return undefined;
}
