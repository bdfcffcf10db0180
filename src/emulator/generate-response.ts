import { groundingMetadataFor } from './grounding-metadata.js';
import { jsonAnswerFor } from './json-answer.js';
import { signatureFor } from './thought-signatures.js';
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
  /** With includeThoughts on an image request: the interim "thought image" (base64 PNG), never billed. */
  thoughtImageBase64?: string;
  /** A structured answer that strays from the schema (the `[[emu:bad-json]]` trigger). */
  badJson?: boolean;
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
    if (parts.thoughtImageBase64 !== undefined) content.push({ inlineData: { mimeType: 'image/png', data: parts.thoughtImageBase64 }, thought: true });
  }
  const caption = parts.caption ? answerText(request, parts.badJson === true) : undefined;
  if (caption !== undefined) content.push({ text: caption });
  if (parts.imageBase64 !== undefined) content.push({ inlineData: { mimeType: 'image/png', data: parts.imageBase64 } });
  if (request.model.thinking) {
    // The first non-thought part carries a signature, and so does every final image part.
    const first = content.findIndex((candidate) => candidate['thought'] !== true);
    content.forEach((part, index) => {
      if (part['thought'] === true) return;
      const inline = part['inlineData'] as { data: string } | undefined;
      if (inline !== undefined) part['thoughtSignature'] = signatureFor({ kind: 'image', bytes: Buffer.from(inline.data, 'base64') });
      else if (index === first) part['thoughtSignature'] = signatureFor({ kind: 'text', text: String(part['text']) });
    });
  }
  const captionTokens = caption === undefined ? 0 : wordCount(caption);
  const imageTokens = parts.imageBase64 === undefined ? 0 : (request.model.imageTokens[request.imageSize] ?? 0);
  const candidate: Record<string, unknown> = { content: { role: 'model', parts: content }, finishReason: 'STOP', index: 0 };
  let toolUsePromptTokens = 0;
  if (request.grounding) {
    const grounded = groundingMetadataFor(request.grounding, stripTriggerPhrases(request.promptText), caption);
    candidate['groundingMetadata'] = grounded.metadata;
    toolUsePromptTokens = grounded.toolUsePromptTokens;
  }
  return {
    candidates: [candidate],
    usageMetadata: usage(request, { imageTokens, textTokens: captionTokens, toolUsePromptTokens }),
    modelVersion: request.model.id,
    responseId: parts.responseId,
  };
}

/** The text part: JSON of the requested schema for structured output, otherwise a caption. */
function answerText(request: ValidatedGenerateRequest, badJson: boolean): string {
  if (request.jsonSchema === undefined) return captionFor(request);
  const subject = stripTriggerPhrases(request.promptText).slice(0, 160) || 'the requested item';
  return JSON.stringify(jsonAnswerFor(request.jsonSchema, subject, badJson));
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
    usageMetadata: usage(request, { imageTokens: 0, textTokens: 0, toolUsePromptTokens: 0 }),
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

function usage(
  request: ValidatedGenerateRequest,
  output: { imageTokens: number; textTokens: number; toolUsePromptTokens: number },
): Record<string, unknown> {
  const prompt = promptTokens(request);
  const candidates = output.imageTokens + output.textTokens;
  const result: Record<string, unknown> = { promptTokenCount: prompt.total };
  if (candidates > 0) result['candidatesTokenCount'] = candidates;
  const thoughts = request.model.thinking ? thoughtTokens(request) : 0;
  result['totalTokenCount'] = prompt.total + candidates + output.toolUsePromptTokens + thoughts;
  if (output.toolUsePromptTokens > 0) result['toolUsePromptTokenCount'] = output.toolUsePromptTokens;
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
