import { BunchError } from '../errors/bunch-error.js';
import type { InlineImage, ParsedGenerateResponse } from '../gemini/parse-generate-response.js';
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
  /** An image the answer names but does not carry (a hosted URL) has `problem`: paid for, unusable (E_BAD_IMAGE). */
  images: InlineImage[];
  text: string;
  finishReason: string;
  inputTokens: number;
  outputTokens: number;
  responseId?: string | undefined;
  modelVersion?: string | undefined;
}): ParsedGenerateResponse {
  const turn: ParsedGenerateResponse['turn'] = [
    ...(answer.text ? [{ text: answer.text }] : []),
    ...answer.images.flatMap((image) => (image.problem === undefined ? [{ inlineData: { mimeType: image.mimeType, data: image.base64 } }] : [])),
  ];
  // The answer's image is the first one: a usable image goes before one it only links to (a
  // hosted preview beside the base64 must not fail the item). The count, which prices it, stays.
  const images = [...answer.images.filter((image) => image.problem === undefined), ...answer.images.filter((image) => image.problem !== undefined)];
  return {
    images,
    thoughts: { texts: [], images: [] },
    turn,
    text: answer.text,
    finishReason: answer.finishReason,
    usage: { promptTokens: answer.inputTokens, outputTokens: answer.outputTokens, thoughtsTokens: 0, totalTokens: answer.inputTokens + answer.outputTokens },
    ...(answer.responseId ? { responseId: answer.responseId } : {}),
    ...(answer.modelVersion ? { modelVersion: answer.modelVersion } : {}),
  };
}

/**
 * A 200 answer that is not the shape the protocol promises (a proxy's page parsed as JSON, a
 * gateway's own envelope): the call reached the server and may have been billed, and asking
 * again may well work (retryable; billing-uncertainty.ts keeps its price reserved).
 */
export function malformedAnswer(protocol: 'openai' | 'anthropic', what: string): BunchError {
  const name = protocol === 'openai' ? 'OpenAI-compatible' : 'Claude-compatible';
  return new BunchError('E_MALFORMED_RESPONSE', `${name} answer has an unexpected shape: ${what}`);
}

/**
 * Reads an answer the SDK parsed: any slip on an unexpected shape inside it (a null entry, a
 * number where a string belongs) is E_MALFORMED_RESPONSE, not a TypeError that would pass for a
 * failed connection.
 */
export function readAnswer<T>(protocol: 'openai' | 'anthropic', read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof BunchError) throw error;
    throw malformedAnswer(protocol, error instanceof Error ? error.message : String(error));
  }
}

/**
 * A token count from a gateway's usage: absent is 0 (some leave usage out; a flat price needs
 * none), digits as text are read as the native path reads int64s, anything else is a malformed
 * answer — never a string to be summed by concatenation.
 */
export function tokenCount(protocol: 'openai' | 'anthropic', value: unknown): number {
  if (value === undefined || value === null) return 0;
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
  if (typeof value === 'string' && /^\d{1,15}$/.test(value)) return Number(value);
  throw malformedAnswer(protocol, `a token count is ${JSON.stringify(value).slice(0, 40)}`);
}
