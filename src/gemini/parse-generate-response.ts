import { z } from 'zod';
import { BunchError } from '../errors/bunch-error.js';
import { DECODED_DATA, type DecodedInlineData } from './stream-generate-body.js';

/**
 * Reads a GenerateContentResponse (Gemini REST, camelCase JSON; proto3 omits zero/empty fields).
 * Only the first candidate counts: bunch never asks for candidateCount > 1. Thought parts
 * (`thought: true`, including interim "thought images") are never the answer and are not billed
 * as output images: they are kept apart in `thoughts`. The answer's parts (with their
 * thoughtSignatures) are kept in `turn` so a multi-turn edit can send them back.
 */
export interface InlineImage {
  mimeType: string;
  /** The base64 as sent; empty when the body was decoded while it streamed in (then `bytes` or `problem`). */
  base64: string;
  /** Decoded while streaming (stream-generate-body.ts). */
  bytes?: Buffer;
  /** Why the streamed base64 could not be decoded. */
  problem?: string;
}

export interface GenerateUsage {
  promptTokens: number;
  outputTokens: number;
  thoughtsTokens: number;
  totalTokens: number;
  /** Output tokens of the IMAGE modality, when the API reports the per-modality split. */
  imageTokens?: number;
}

/** A part of the model's answer as it must be echoed in the next turn of a multi-turn edit. */
export type AnswerPart =
  | { text: string; thoughtSignature?: string }
  | { inlineData: { mimeType: string; data: string }; thoughtSignature?: string };

export interface ParsedGenerateResponse {
  images: InlineImage[];
  /** Thought summaries and interim thought images (only sent with includeThoughts). */
  thoughts: { texts: string[]; images: InlineImage[] };
  /** The non-thought parts in order, signatures included: the model turn of a conversation. */
  turn: AnswerPart[];
  /** The candidate's groundingMetadata as sent, when the request was grounded. */
  groundingMetadata?: Record<string, unknown>;
  /** Final (non-thought) text parts, joined with a newline. Empty when there is none. */
  text: string;
  finishReason?: string;
  blockReason?: string;
  usage: GenerateUsage;
  modelVersion?: string;
  responseId?: string;
}

// int32 counts are JSON numbers; int64-as-string is tolerated because gateways re-encode them.
const count = z.union([z.number().int().nonnegative(), z.string().regex(/^\d+$/).transform(Number)]);

const partSchema = z.looseObject({
  text: z.string().optional(),
  thought: z.boolean().optional(),
  thoughtSignature: z.string().optional(),
  inlineData: z.looseObject({ mimeType: z.string(), data: z.string() }).optional(),
});

const candidateSchema = z.looseObject({
  content: z.looseObject({ parts: z.array(partSchema).optional() }).optional(),
  finishReason: z.string().optional(),
  groundingMetadata: z.record(z.string(), z.unknown()).optional(),
});

const responseSchema = z.looseObject({
  candidates: z.array(candidateSchema).optional(),
  promptFeedback: z.looseObject({ blockReason: z.string().optional() }).optional(),
  usageMetadata: z
    .looseObject({
      promptTokenCount: count.optional(),
      toolUsePromptTokenCount: count.optional(),
      candidatesTokenCount: count.optional(),
      thoughtsTokenCount: count.optional(),
      totalTokenCount: count.optional(),
      candidatesTokensDetails: z
        .array(z.looseObject({ modality: z.string().optional(), tokenCount: count.optional() }))
        .optional(),
    })
    .optional(),
  modelVersion: z.string().optional(),
  responseId: z.string().optional(),
});

export function parseGenerateResponse(json: unknown): ParsedGenerateResponse {
  const result = responseSchema.safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'unknown shape';
    throw new BunchError('E_MALFORMED_RESPONSE', `generateContent response has an unexpected shape at ${where}`, {
      cause: result.error,
    });
  }
  const body = result.data;
  const candidate = body.candidates?.[0];
  const images: InlineImage[] = [];
  const texts: string[] = [];
  const thoughts: ParsedGenerateResponse['thoughts'] = { texts: [], images: [] };
  const turn: AnswerPart[] = [];
  for (const part of candidate?.content?.parts ?? []) {
    const isImage = part.inlineData !== undefined && part.inlineData.mimeType.toLowerCase().startsWith('image/');
    const image = part.inlineData && isImage ? inlineImageOf(part.inlineData) : undefined;
    if (part.thought === true) {
      if (image) thoughts.images.push(image);
      else if (part.text !== undefined && part.text !== '') thoughts.texts.push(part.text);
      continue;
    }
    const signature = part.thoughtSignature !== undefined ? { thoughtSignature: part.thoughtSignature } : {};
    if (image) {
      images.push(image);
      turn.push({ inlineData: echoedData(image), ...signature });
    }
    if (part.text !== undefined && part.text !== '') {
      texts.push(part.text);
      turn.push({ text: part.text, ...signature });
    }
  }

  const meta = body.usageMetadata;
  const usage: GenerateUsage = {
    // Search results fed back to a grounded model are input too, billed at the input rate.
    promptTokens: (meta?.promptTokenCount ?? 0) + (meta?.toolUsePromptTokenCount ?? 0),
    outputTokens: meta?.candidatesTokenCount ?? 0,
    thoughtsTokens: meta?.thoughtsTokenCount ?? 0,
    totalTokens: meta?.totalTokenCount ?? 0,
  };
  const imageDetails = meta?.candidatesTokensDetails?.filter((d) => d.modality?.toUpperCase() === 'IMAGE');
  if (imageDetails && imageDetails.length > 0) {
    usage.imageTokens = imageDetails.reduce((sum, d) => sum + (d.tokenCount ?? 0), 0);
  }

  const parsed: ParsedGenerateResponse = { images, thoughts, turn, text: texts.join('\n'), usage };
  if (candidate?.groundingMetadata !== undefined) parsed.groundingMetadata = candidate.groundingMetadata;
  if (candidate?.finishReason !== undefined) parsed.finishReason = candidate.finishReason;
  if (body.promptFeedback?.blockReason !== undefined) parsed.blockReason = body.promptFeedback.blockReason;
  if (body.modelVersion !== undefined) parsed.modelVersion = body.modelVersion;
  if (body.responseId !== undefined) parsed.responseId = body.responseId;
  return parsed;
}

function inlineImageOf(inlineData: { mimeType: string; data: string } & Record<string, unknown>): InlineImage {
  const decoded = inlineData[DECODED_DATA] as DecodedInlineData | undefined;
  const image: InlineImage = { mimeType: inlineData.mimeType, base64: inlineData.data };
  if (decoded?.bytes) image.bytes = decoded.bytes;
  if (decoded?.problem !== undefined) image.problem = decoded.problem;
  return image;
}

/**
 * The image as the next turn of an edit sends it back. A streamed image keeps only its bytes; the
 * base64 is made again when the turn is serialised (an enumerable getter, which JSON.stringify
 * reads), so no base64 copy waits in memory for a turn that may never come.
 */
function echoedData(image: InlineImage): { mimeType: string; data: string } {
  if (!image.bytes) return { mimeType: image.mimeType, data: image.base64 };
  const bytes = image.bytes;
  const echoed = { mimeType: image.mimeType } as { mimeType: string; data: string };
  Object.defineProperty(echoed, 'data', { get: () => bytes.toString('base64'), enumerable: true });
  return echoed;
}
