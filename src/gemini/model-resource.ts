/**
 * The Model resource of `GET /v1beta/models/{model}`:
 *   {name:"models/<id>", version, displayName, description, inputTokenLimit, outputTokenLimit,
 *    supportedGenerationMethods:["generateContent","countTokens","batchGenerateContent",...],
 *    temperature, topP, topK, maxTemperature, thinking}
 * Only what bunch acts on is kept. A body without a `name` is not a Model (a gateway's 200 page,
 * an unrelated server at the base URL): E_MALFORMED_RESPONSE.
 */
import { BunchError } from '../errors/bunch-error.js';

export interface ModelResource {
  /** `models/<id>`. */
  name: string;
  displayName?: string;
  /** As the API lists them; empty when the answer carried none (then nothing can be concluded from it). */
  supportedGenerationMethods: string[];
  inputTokenLimit?: number;
  outputTokenLimit?: number;
}

export function readModelResource(body: unknown): ModelResource {
  const object = body !== null && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>) : undefined;
  if (!object || typeof object.name !== 'string' || object.name === '') {
    throw new BunchError('E_MALFORMED_RESPONSE', 'models.get answered without a model name: not a Gemini Model resource');
  }
  const methods = Array.isArray(object.supportedGenerationMethods)
    ? object.supportedGenerationMethods.filter((method): method is string => typeof method === 'string')
    : [];
  const model: ModelResource = { name: object.name, supportedGenerationMethods: methods };
  if (typeof object.displayName === 'string') model.displayName = object.displayName;
  if (typeof object.inputTokenLimit === 'number') model.inputTokenLimit = object.inputTokenLimit;
  if (typeof object.outputTokenLimit === 'number') model.outputTokenLimit = object.outputTokenLimit;
  return model;
}
