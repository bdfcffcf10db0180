import type { ParsedGenerateResponse } from '../gemini/parse-generate-response.js';
import { classifySdkError } from './sdk-error.js';

export interface SdkCallOptions {
  protocol: 'openai' | 'anthropic';
  timeoutMs: number;
  signal?: AbortSignal | undefined;
  secrets: readonly (string | undefined)[];
}

/**
 * One call through an official client under bunch's rules: a deadline over the whole exchange
 * (the SDKs' own `timeout` stops at the headers; a stalled body must time out too), the caller's
 * signal honoured, no SDK retries (the lanes own retry policy), every failure a BunchError.
 */
export async function callWithDeadline(
  options: SdkCallOptions,
  call: (signal: AbortSignal) => Promise<ParsedGenerateResponse>,
): Promise<{ response: ParsedGenerateResponse; latencyMs: number }> {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, options.timeoutMs);
  const onAbort = () => controller.abort();
  if (options.signal?.aborted) controller.abort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const started = performance.now();
  try {
    const response = await call(controller.signal);
    return { response, latencyMs: Math.round(performance.now() - started) };
  } catch (error) {
    throw classifySdkError(error, { protocol: options.protocol, timedOut, cancelled: !timedOut && (options.signal?.aborted ?? false), secrets: options.secrets });
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
  }
}

/** A ParsedGenerateResponse from what a gateway protocol answered (no thoughts, no signatures: those are Gemini-native). */
export function gatewayAnswer(answer: {
  images: { mimeType: string; base64: string }[];
  text: string;
  finishReason: string;
  inputTokens: number;
  outputTokens: number;
  responseId?: string | undefined;
  modelVersion?: string | undefined;
}): ParsedGenerateResponse {
  const turn: ParsedGenerateResponse['turn'] = [
    ...(answer.text ? [{ text: answer.text }] : []),
    ...answer.images.map((image) => ({ inlineData: { mimeType: image.mimeType, data: image.base64 } })),
  ];
  return {
    images: answer.images,
    thoughts: { texts: [], images: [] },
    turn,
    text: answer.text,
    finishReason: answer.finishReason,
    usage: { promptTokens: answer.inputTokens, outputTokens: answer.outputTokens, thoughtsTokens: 0, totalTokens: answer.inputTokens + answer.outputTokens },
    ...(answer.responseId ? { responseId: answer.responseId } : {}),
    ...(answer.modelVersion ? { modelVersion: answer.modelVersion } : {}),
  };
}
