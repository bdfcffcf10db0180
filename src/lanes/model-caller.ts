import type { ParsedGenerateResponse } from '../gemini/parse-generate-response.js';

/** The port the lanes call the model through; `GeminiClient` implements it. */
export interface ModelCaller {
  generateContent(
    model: string,
    request: object,
    options: { timeoutMs: number; signal?: AbortSignal },
  ): Promise<{ response: ParsedGenerateResponse; latencyMs: number }>;
}
