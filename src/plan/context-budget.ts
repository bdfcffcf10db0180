import type { ImageModelInfo } from '../gemini/model-catalog.js';
import type { GenerateContentRequest } from '../gemini/generate-content-request.js';

/**
 * Input tokens of a request, estimated before anything is enqueued so that a row whose request
 * cannot fit the model's input limit is rejected at planning (naming the largest part) instead of
 * failing as a paid-for 400 later. Text is counted at one token per 3 UTF-8 bytes — above what
 * Gemini's tokenizer gives for product prose (≈ 4 characters a token), so the estimate errs on
 * the side of rejecting — and every image at the model's per-image input cost.
 */
export interface ContextPart {
  /** What an operator recognises: "the prompt", "the system instruction", "3 reference images", ... */
  label: string;
  tokens: number;
}

export interface ContextEstimate {
  tokens: number;
  parts: ContextPart[];
}

const BYTES_PER_TOKEN = 3;

export function textTokens(text: string): number {
  return Math.ceil(Buffer.byteLength(text, 'utf8') / BYTES_PER_TOKEN);
}

/** The system instruction's tokens, remembered: it is the same for every row of a job and may be long. */
let lastSystem: { text: string; tokens: number } | undefined;
export function systemTokensOf(system: string | undefined): number {
  if (!system) return 0;
  if (lastSystem?.text !== system) lastSystem = { text: system, tokens: textTokens(system) };
  return lastSystem.tokens;
}

/**
 * The largest request of the item: with edit steps, the last turn, which carries the whole
 * conversation — every earlier prompt and every earlier answer's image.
 */
export function estimateInputTokens(request: GenerateContentRequest, model: ImageModelInfo, systemTokens: number, steps: readonly string[] = []): ContextEstimate {
  const parts: ContextPart[] = [];
  if (systemTokens > 0) parts.push({ label: 'the system instruction', tokens: systemTokens });
  let promptTokens = 0;
  let images = 0;
  let earlierTurnText = 0;
  for (const content of request.contents) {
    for (const part of content.parts) {
      if ('text' in part) {
        if (content.role === 'user') promptTokens += textTokens(part.text);
        else earlierTurnText += textTokens(part.text);
      } else {
        images += 1;
      }
    }
  }
  parts.push({ label: 'the prompt', tokens: promptTokens });
  if (images > 0) parts.push({ label: `${images} image${images === 1 ? '' : 's'} (${model.inputImageTokens} tokens each)`, tokens: images * model.inputImageTokens });
  if (earlierTurnText > 0) parts.push({ label: 'the earlier turns\' text', tokens: earlierTurnText });
  if (steps.length > 0) {
    parts.push({ label: `the ${steps.length} edit step prompt${steps.length === 1 ? '' : 's'}`, tokens: steps.reduce((sum, step) => sum + textTokens(step), 0) });
    parts.push({ label: `${steps.length} earlier answer image${steps.length === 1 ? '' : 's'} sent back`, tokens: steps.length * model.inputImageTokens });
  }
  return { tokens: parts.reduce((sum, part) => sum + part.tokens, 0), parts };
}

/** The rejection message for a request over the limit, or undefined when it fits. */
export function contextOverflow(estimate: ContextEstimate, model: ImageModelInfo): string | undefined {
  if (estimate.tokens <= model.inputTokenLimit) return undefined;
  const largest = [...estimate.parts].sort((a, b) => b.tokens - a.tokens)[0];
  const what = largest ? `; the largest part is ${largest.label} at about ${largest.tokens.toLocaleString('en-US')} tokens` : '';
  return `the request needs about ${estimate.tokens.toLocaleString('en-US')} input tokens, over ${model.id}'s limit of ${model.inputTokenLimit.toLocaleString('en-US')}${what}`;
}
