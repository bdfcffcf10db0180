/**
 * The OpenAI-compatible protocol of a gateway, through the official `openai` client:
 * - `images` mode: `images.generate`, or `images.edit` with the reference images as files
 *   (image-to-image), answered as `b64_json`;
 * - `chat` mode (and text-only jobs): `chat.completions.create` with the references as data-URL
 *   `image_url` parts; gateways that draw there return images in `message.images[].image_url.url`
 *   (data URLs), an extension to OpenAI's schema.
 * The system instruction leads the prompt on the Images API (it has no system role).
 */
import { sniffImageType } from '../references/sniff-image-type.js';
import OpenAI, { toFile } from 'openai';
import type { ChatCompletionContentPart, ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { BunchError } from '../errors/bunch-error.js';
import type { ModelCaller } from '../lanes/model-caller.js';
import type { ParsedGenerateResponse } from '../gemini/parse-generate-response.js';
import { portableRequest, type PortableRequest } from './request-content.js';
import { callWithDeadline, gatewayAnswer } from './sdk-call.js';

export interface OpenAiCallerOptions {
  apiKey: string;
  baseUrl?: string | undefined;
  mode: 'images' | 'chat';
}

const MIME_BY_FORMAT: Readonly<Record<string, string>> = { png: 'image/png', jpeg: 'image/jpeg', webp: 'image/webp' };
const EXT_BY_MIME: Readonly<Record<string, string>> = { 'image/png': 'png', 'image/jpeg': 'jpg', 'image/webp': 'webp', 'image/heic': 'heic', 'image/heif': 'heif' };

export function createOpenAiCaller(options: OpenAiCallerOptions): ModelCaller {
  // maxRetries 0: the lanes retry (with the run's backoff, attempts and rate-limit pauses).
  const client = new OpenAI({ apiKey: options.apiKey, maxRetries: 0, ...(options.baseUrl ? { baseURL: options.baseUrl } : {}) });
  return {
    generateContent(model, body, call) {
      const request = portableRequest(body);
      return callWithDeadline({ protocol: 'openai', timeoutMs: call.timeoutMs, signal: call.signal, secrets: [options.apiKey] }, (signal) =>
        options.mode === 'images' && request.wantImage ? viaImages(client, model, request, signal, call.timeoutMs) : viaChat(client, model, request, signal, call.timeoutMs),
      );
    },
  };
}

function leadingSystem(request: PortableRequest): string {
  return request.system ? `${request.system}\n\n${request.prompt}` : request.prompt;
}

async function viaImages(client: OpenAI, model: string, request: PortableRequest, signal: AbortSignal, timeout: number): Promise<ParsedGenerateResponse> {
  const prompt = leadingSystem(request);
  const answer =
    request.images.length === 0
      ? await client.images.generate({ model, prompt, n: 1, response_format: 'b64_json' }, { signal, timeout })
      : await client.images.edit(
          {
            model,
            prompt,
            image: await Promise.all(
              request.images.map((image, index) =>
                toFile(Buffer.from(image.data, 'base64'), `reference-${index + 1}.${EXT_BY_MIME[image.mimeType] ?? 'png'}`, { type: image.mimeType }),
              ),
            ),
            response_format: 'b64_json',
          },
          { signal, timeout },
        );
  // Without output_format (Google's compatibility layer, most gateways) the bytes say what they
  // are: a JPEG labelled PNG failed as E_BAD_IMAGE after being paid for twice.
  const declared = answer.output_format ? MIME_BY_FORMAT[answer.output_format] : undefined;
  const images = (answer.data ?? []).flatMap((entry) =>
    entry.b64_json ? [{ mimeType: declared ?? sniffImageType(Buffer.from(entry.b64_json.slice(0, 64), 'base64')) ?? 'image/png', base64: entry.b64_json }] : [],
  );
  return gatewayAnswer({
    images,
    text: '',
    finishReason: 'STOP',
    inputTokens: answer.usage?.input_tokens ?? 0,
    outputTokens: answer.usage?.output_tokens ?? 0,
  });
}

/** A gateway's image in a chat answer: `{ type: 'image_url', image_url: { url: 'data:image/png;base64,…' } }`. */
interface ChatImage {
  image_url?: { url?: string };
}

async function viaChat(client: OpenAI, model: string, request: PortableRequest, signal: AbortSignal, timeout: number): Promise<ParsedGenerateResponse> {
  const content: ChatCompletionContentPart[] = [
    { type: 'text', text: request.prompt },
    ...request.images.map((image): ChatCompletionContentPart => ({ type: 'image_url', image_url: { url: `data:${image.mimeType};base64,${image.data}` } })),
  ];
  const messages: ChatCompletionMessageParam[] = [...(request.system ? [{ role: 'system' as const, content: request.system }] : []), { role: 'user', content }];
  // `modalities: ['image', 'text']` is how image gateways are asked to draw (an extension: the
  // SDK's type only knows text and audio); a text-only job asks for words alone.
  const modalities = (request.wantImage ? ['image', 'text'] : ['text']) as OpenAI.ChatCompletionCreateParams['modalities'];
  const answer = await client.chat.completions.create({ model, messages, n: 1, modalities }, { signal, timeout });
  const choice = answer.choices[0];
  const message = choice?.message as (OpenAI.ChatCompletionMessage & { images?: ChatImage[] }) | undefined;
  const images = (message?.images ?? []).flatMap((image) => {
    const match = /^data:([^;,]+);base64,(.*)$/s.exec(image.image_url?.url ?? '');
    return match?.[1] && match[2] !== undefined ? [{ mimeType: match[1], base64: match[2] }] : [];
  });
  if (images.length === 0 && (message?.images?.length ?? 0) > 0) {
    throw new BunchError('E_MALFORMED_RESPONSE', 'the chat answer carries images that are not base64 data URLs');
  }
  return gatewayAnswer({
    images,
    text: typeof message?.content === 'string' ? message.content : '',
    finishReason: choice?.finish_reason === 'content_filter' ? 'SAFETY' : 'STOP',
    inputTokens: answer.usage?.prompt_tokens ?? 0,
    outputTokens: answer.usage?.completion_tokens ?? 0,
    responseId: answer.id,
    modelVersion: answer.model,
  });
}
