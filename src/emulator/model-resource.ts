import type { ImageModelInfo } from '../gemini/model-catalog.js';

/**
 * The Model resource the API serves for `GET /v1beta/models/{model}` and in `models.list`, built
 * from the model catalog. Field names and the shape of the values follow real answers (e.g.
 * `supportedGenerationMethods: ["generateContent","countTokens","batchGenerateContent"]`,
 * `topK: 64`); the SDK maps `supportedGenerationMethods` to `supportedActions`.
 */
export interface EmulatedModel {
  name: string;
  version: string;
  displayName: string;
  description: string;
  inputTokenLimit: number;
  outputTokenLimit: number;
  supportedGenerationMethods: string[];
  temperature: number;
  topP: number;
  topK: number;
  maxTemperature: number;
  thinking: boolean;
}

export const SUPPORTED_GENERATION_METHODS = ['generateContent', 'countTokens', 'batchGenerateContent'] as const;

export function modelResource(model: ImageModelInfo): EmulatedModel {
  return {
    name: `models/${model.id}`,
    version: '2.0',
    displayName: model.displayName,
    description: `${model.displayName} image generation and editing model (emulated by bunch).`,
    inputTokenLimit: model.inputTokenLimit,
    outputTokenLimit: model.outputTokenLimit,
    supportedGenerationMethods: [...SUPPORTED_GENERATION_METHODS],
    temperature: 1,
    topP: 0.95,
    topK: 64,
    maxTemperature: 2,
    thinking: model.thinking,
  };
}
