import { BunchError } from '../errors/bunch-error.js';
import type { GenerateContentRequest } from '../gemini/generate-content-request.js';

/**
 * What a gateway protocol can carry of a Gemini request: the prompt, the system instruction, the
 * inline reference images, whether an image is wanted, and the sampling settings (temperature,
 * seed) for the callers to send or refuse — never to drop, since the inputHash covers them. Validation (spec/capability-checks.ts)
 * already refused jobs that need more (imageConfig, grounding, thinking, turns, structured output),
 * so anything else here is a programming error, not a user's.
 */
export interface PortableRequest {
  prompt: string;
  system: string | undefined;
  images: { mimeType: string; data: string }[];
  wantImage: boolean;
  temperature: number | undefined;
  seed: number | undefined;
}

export function portableRequest(body: object): PortableRequest {
  const request = body as GenerateContentRequest;
  if (request.contents.length !== 1) throw new BunchError('E_INTERNAL', 'a gateway protocol cannot carry a multi-turn conversation');
  const texts: string[] = [];
  const images: PortableRequest['images'] = [];
  for (const part of request.contents[0]?.parts ?? []) {
    if ('text' in part) texts.push(part.text);
    else if ('inlineData' in part) images.push({ mimeType: part.inlineData.mimeType, data: part.inlineData.data });
    else throw new BunchError('E_INTERNAL', 'a gateway protocol cannot carry Files API references (fileData)');
  }
  const system = request.systemInstruction?.parts.map((part) => part.text).join('\n');
  return {
    prompt: texts.join('\n'),
    system: system === undefined || system.trim() === '' ? undefined : system,
    images,
    wantImage: request.generationConfig.responseModalities.includes('IMAGE'),
    temperature: request.generationConfig.temperature,
    seed: request.generationConfig.seed,
  };
}
