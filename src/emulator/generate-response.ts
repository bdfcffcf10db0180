import { createHash } from 'node:crypto';
import { stripTriggerPhrases } from './trigger-phrases.js';
import type { ValidatedGenerateRequest } from './prepare-generate-request.js';

/**
 * Builds GenerateContentResponse bodies (always camelCase, zero fields omitted, like proto3 JSON):
 * the success shape with thought signatures and usageMetadata, and the 200-with-bad-news shapes
 * (finishReason NO_IMAGE / IMAGE_SAFETY / IMAGE_PROHIBITED_CONTENT, promptFeedback.blockReason).
 */
export type GenerateResponseBody = Record<string, unknown>;

export interface SuccessParts {
  /** Base64 PNG, or undefined for a text-only answer. */
  imageBase64: string | undefined;
  /** Whether to include the caption text part. */
  caption: boolean;
  responseId: string;
}

/** Input images cost 1120 tokens on the Gemini 3 models (high media resolution), 258 on 2.5. */
const INPUT_IMAGE_TOKENS = { thinking: 1120, classic: 258 } as const;

export function captionFor(request: ValidatedGenerateRequest): string {
  const subject = stripTriggerPhrases(request.promptText).slice(0, 160) || 'the requested scene';
  return `Here is the image you asked for: ${subject}`;
}

export function successResponse(request: ValidatedGenerateRequest, parts: SuccessParts): GenerateResponseBody {
  const content: Record<string, unknown>[] = [];
  if (request.includeThoughts) {
    content.push({ text: '**Composing the shot**\n\nPlanning layout, lighting and colours for the request.', thought: true });
  }
  const caption = parts.caption ? captionFor(request) : undefined;
  if (caption !== undefined) content.push({ text: caption });
  if (parts.imageBase64 !== undefined) content.push({ inlineData: { mimeType: 'image/png', data: parts.imageBase64 } });
  if (request.model.thinking) {
    // The first non-thought part carries a signature, and so does every final image part.
    content.forEach((part, index) => {
      if (part['thought'] === true) return;
      const isFirst = content.findIndex((candidate) => candidate['thought'] !== true) === index;
      if (isFirst || part['inlineData'] !== undefined) part['thoughtSignature'] = signature(request, index);
    });
  }
  const captionTokens = caption === undefined ? 0 : wordCount(caption);
  const imageTokens = parts.imageBase64 === undefined ? 0 : (request.model.imageTokens[request.imageSize] ?? 0);
  return {
    candidates: [{ content: { role: 'model', parts: content }, finishReason: 'STOP', index: 0 }],
    usageMetadata: usage(request, { imageTokens, textTokens: captionTokens }),
    modelVersion: request.model.id,
    responseId: parts.responseId,
  };
}

const FINISH_MESSAGES: Record<string, string> = {
  NO_IMAGE: 'The model did not generate an image for this request.',
  IMAGE_SAFETY: 'Unable to show the generated image. The image was filtered out because it violated Google\'s Generative AI Prohibited Use policy.',
  IMAGE_PROHIBITED_CONTENT: 'Unable to show the generated image because it may contain prohibited content.',
};

/** A candidate that ends without an image (HTTP 200). */
export function finishReasonResponse(request: ValidatedGenerateRequest, finishReason: string, responseId: string): GenerateResponseBody {
  const candidate: Record<string, unknown> = { finishReason, index: 0 };
  const message = FINISH_MESSAGES[finishReason];
  if (message !== undefined) candidate['finishMessage'] = message;
  return {
    candidates: [candidate],
    usageMetadata: usage(request, { imageTokens: 0, textTokens: 0 }),
    modelVersion: request.model.id,
    responseId,
  };
}

/** The prompt itself was blocked: promptFeedback, no candidates (HTTP 200). */
export function blockedResponse(request: ValidatedGenerateRequest, blockReason: string, responseId: string): GenerateResponseBody {
  const prompt = promptTokens(request);
  return {
    promptFeedback: { blockReason },
    usageMetadata: { promptTokenCount: prompt.total, totalTokenCount: prompt.total, promptTokensDetails: prompt.details },
    modelVersion: request.model.id,
    responseId,
  };
}

export function wordCount(text: string): number {
  const words = text.split(/\s+/).filter((word) => word.length > 0).length;
  return Math.max(1, words);
}

function promptTokens(request: ValidatedGenerateRequest): { total: number; details: Record<string, unknown>[] } {
  const text = wordCount(`${request.systemText} ${request.promptText}`);
  const perImage = request.model.thinking ? INPUT_IMAGE_TOKENS.thinking : INPUT_IMAGE_TOKENS.classic;
  const images = request.inputImages.length * perImage;
  const details: Record<string, unknown>[] = [{ modality: 'TEXT', tokenCount: text }];
  if (images > 0) details.push({ modality: 'IMAGE', tokenCount: images });
  return { total: text + images, details };
}

function usage(request: ValidatedGenerateRequest, output: { imageTokens: number; textTokens: number }): Record<string, unknown> {
  const prompt = promptTokens(request);
  const candidates = output.imageTokens + output.textTokens;
  const result: Record<string, unknown> = { promptTokenCount: prompt.total };
  if (candidates > 0) result['candidatesTokenCount'] = candidates;
  const thoughts = request.model.thinking ? thoughtTokens(request) : 0;
  result['totalTokenCount'] = prompt.total + candidates + thoughts;
  result['promptTokensDetails'] = prompt.details;
  const details: Record<string, unknown>[] = [];
  if (output.imageTokens > 0) details.push({ modality: 'IMAGE', tokenCount: output.imageTokens });
  if (output.textTokens > 0) details.push({ modality: 'TEXT', tokenCount: output.textTokens });
  if (details.length > 0) result['candidatesTokensDetails'] = details;
  if (thoughts > 0) result['thoughtsTokenCount'] = thoughts;
  return result;
}

/** Gemini 3 image models always think; a deterministic 100..299 tokens per request. */
export function thoughtTokens(request: ValidatedGenerateRequest): number {
  return 100 + (Number.parseInt(request.promptHash.slice(0, 4), 16) % 200);
}

function signature(request: ValidatedGenerateRequest, index: number): string {
  return createHash('sha512').update(`signature:${request.promptHash}:${index}`).digest('base64');
}
