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
import type { InlineImage } from '../gemini/parse-generate-response.js';
import { DEFAULT_MAX_RESPONSE_BYTES } from '../gemini/bounded-body.js';
import { cappedFetch } from './capped-fetch.js';
import { callWithDeadline, gatewayAnswer, malformedAnswer, readAnswer, tokenCount } from './sdk-call.js';

export interface OpenAiCallerOptions {
  apiKey: string;
  baseUrl?: string | undefined;
  mode: 'images' | 'chat';
  /** The answer's body cap (default 64 MiB, as the Gemini-native client): larger is E_RESPONSE_TOO_LARGE. */
  maxResponseBytes?: number;
}

const MIME_BY_FORMAT: Readonly<Record<string, string>> = { png: 'image/png', jpeg: 'image/jpeg', webp: 'image/webp' };
const EXT_BY_MIME: Readonly<Record<string, string>> = { 'image/png': 'png', 'image/jpeg': 'jpg', 'image/webp': 'webp', 'image/heic': 'heic', 'image/heif': 'heif' };

export function createOpenAiCaller(options: OpenAiCallerOptions): ModelCaller {
  // maxRetries 0: the lanes retry (with the run's backoff, attempts and rate-limit pauses).
  const client = new OpenAI({
    apiKey: options.apiKey,
    maxRetries: 0,
    fetch: cappedFetch(options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES),
    ...(options.baseUrl ? { baseURL: options.baseUrl } : {}),
  });
  return {
    generateContent(model, body, call) {
      const request = portableRequest(body);
      const viaImagesApi = options.mode === 'images' && request.wantImage;
      // The Images API has neither: sending the request without them would draw something else
      // than the inputHash (which covers them) says — refused before any call, so nothing is paid.
      if (viaImagesApi && (request.temperature !== undefined || request.seed !== undefined)) {
        return Promise.reject(
          new BunchError(
            'E_BAD_REQUEST',
            'generation.temperature and generation.seed cannot be sent through the OpenAI Images API (BUNCH_OPENAI_MODE=images); use BUNCH_OPENAI_MODE=chat or drop them',
          ),
        );
      }
      return callWithDeadline({ protocol: 'openai', timeoutMs: call.timeoutMs, signal: call.signal, secrets: [options.apiKey] }, (signal) =>
        viaImagesApi ? viaImages(client, model, request, signal, call.timeoutMs) : viaChat(client, model, request, signal, call.timeoutMs),
      );
    },
  };
}

/** `data:image/png[;param=value…];base64,<data>` (RFC 2397, parameters allowed, any case). */
const DATA_URL = /^data:([^;,]+)(?:;[^;,]*)*?;base64,(.*)$/is;

/** An answer's image given by URL: a base64 data URL is the image; a hosted link is paid for and unusable. */
function imageAtUrl(url: string): InlineImage {
  const match = DATA_URL.exec(url);
  if (match?.[1] && match[2] !== undefined) return { mimeType: match[1].toLowerCase(), base64: match[2] };
  if (/^https?:\/\//i.test(url)) return hostedImage(url);
  return { mimeType: 'image/png', base64: '', problem: 'an image of the answer is neither a base64 data URL nor a hosted URL' };
}

/**
 * An image the answer links to instead of carrying: paid for, and not fetched (an address a worker
 * should not follow blindly). Its query is left out of the message: signed links carry a credential.
 */
function hostedImage(url: string): InlineImage {
  const plain = URL.canParse(url) ? (({ origin, pathname, search }) => `${origin}${pathname}${search ? '?…' : ''}`)(new URL(url)) : 'an unreadable URL';
  const shown = plain.length > 100 ? `${plain.slice(0, 100)}…` : plain;
  return { mimeType: 'image/png', base64: '', problem: `the gateway answered the image as a hosted URL (${shown}), not base64 data` };
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
  return readAnswer('openai', () => {
    if (typeof answer !== 'object' || answer === null || (answer.data !== undefined && !Array.isArray(answer.data))) throw malformedAnswer('openai', 'no data list');
    const declared = answer.output_format ? MIME_BY_FORMAT[answer.output_format] : undefined;
    const images = (answer.data ?? []).flatMap((entry): InlineImage[] => {
      if (typeof entry !== 'object' || entry === null) throw malformedAnswer('openai', 'an entry of data is not an object');
      if (typeof entry.b64_json === 'string' && entry.b64_json !== '') {
        return [{ mimeType: declared ?? sniffImageType(Buffer.from(entry.b64_json.slice(0, 64), 'base64')) ?? 'image/png', base64: entry.b64_json }];
      }
      if (typeof entry.url === 'string' && entry.url !== '') return [imageAtUrl(entry.url)];
      // Paid for, and unusable: fails as a broken image would (charged, asked for at most twice).
      return entry.b64_json !== undefined && entry.b64_json !== null ? [{ mimeType: 'image/png', base64: '', problem: 'an image of the answer has b64_json that is not base64 text' }] : [];
    });
    return gatewayAnswer({
      images,
      text: '',
      finishReason: 'STOP',
      inputTokens: tokenCount('openai', answer.usage?.input_tokens),
      outputTokens: tokenCount('openai', answer.usage?.output_tokens),
    });
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
  const sampling = {
    ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
    ...(request.seed !== undefined ? { seed: request.seed } : {}),
  };
  const answer = await client.chat.completions.create({ model, messages, n: 1, modalities, ...sampling }, { signal, timeout });
  return readAnswer('openai', () => {
    if (typeof answer !== 'object' || answer === null || !Array.isArray(answer.choices)) throw malformedAnswer('openai', 'no choices list');
    const choice = answer.choices[0];
    const message = choice?.message as (OpenAI.ChatCompletionMessage & { images?: ChatImage[] }) | undefined;
    if (message?.images !== undefined && !Array.isArray(message.images)) throw malformedAnswer('openai', 'message.images is not a list');
    const images = (message?.images ?? []).flatMap((image): InlineImage[] => {
      return [imageAtUrl(typeof image?.image_url?.url === 'string' ? image.image_url.url : '')];
    });
    return gatewayAnswer({
      images,
      text: typeof message?.content === 'string' ? message.content : '',
      finishReason: choice?.finish_reason === 'content_filter' ? 'SAFETY' : 'STOP',
      inputTokens: tokenCount('openai', answer.usage?.prompt_tokens),
      outputTokens: tokenCount('openai', answer.usage?.completion_tokens),
      responseId: answer.id,
      modelVersion: answer.model,
    });
  });
}
