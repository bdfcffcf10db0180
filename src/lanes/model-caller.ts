import type { ParsedGenerateResponse } from '../gemini/parse-generate-response.js';

/** The port the lanes call the model through; `GeminiClient` implements it. */
export interface ModelCaller {
  generateContent(
    model: string,
    request: object,
    /** `protocol`: the run's gateway protocol when it is not Gemini-native (the router picks the client). */
    options: { timeoutMs: number; signal?: AbortSignal; protocol?: 'openai' | 'anthropic' },
  ): Promise<{ response: ParsedGenerateResponse; latencyMs: number }>;
}
