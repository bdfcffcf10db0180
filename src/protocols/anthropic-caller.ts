/**
 * The Claude-compatible protocol of a gateway, through the official `@anthropic-ai/sdk`:
 * `messages.create` with the reference images as base64 image blocks before the prompt and the
 * system instruction as `system`. Image-model gateways answer with `image` content blocks
 * (`{type:'image', source:{type:'base64', media_type, data}}`) beside text; a declined request is
 * `stop_reason: 'refusal'`, which bunch treats as a safety outcome (E_SAFETY_BLOCKED, not retried).
 */
import Anthropic from '@anthropic-ai/sdk';
import type { ModelCaller } from '../lanes/model-caller.js';
import { portableRequest } from './request-content.js';
import { DEFAULT_MAX_RESPONSE_BYTES } from '../gemini/bounded-body.js';
import { cappedFetch } from './capped-fetch.js';
import { callWithDeadline, gatewayAnswer, malformedAnswer, readAnswer, tokenCount } from './sdk-call.js';

export interface AnthropicCallerOptions {
  apiKey: string;
  baseUrl?: string | undefined;
  /** The answer's body cap (default 64 MiB, as the Gemini-native client): larger is E_RESPONSE_TOO_LARGE. */
  maxResponseBytes?: number;
}

/** The answer's budget: one image and a caption; the Messages API requires a bound. */
const MAX_TOKENS = 8192;

interface AnswerBlock {
  type: string;
  text?: string;
  source?: { type?: string; media_type?: string; data?: string };
}

export function createAnthropicCaller(options: AnthropicCallerOptions): ModelCaller {
  const client = new Anthropic({
    apiKey: options.apiKey,
    maxRetries: 0,
    fetch: cappedFetch(options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES),
    ...(options.baseUrl ? { baseURL: options.baseUrl } : {}),
  });
  return {
    generateContent(model, body, call) {
      const request = portableRequest(body);
      return callWithDeadline({ protocol: 'anthropic', timeoutMs: call.timeoutMs, signal: call.signal, secrets: [options.apiKey] }, async (signal) => {
        const content: Anthropic.ContentBlockParam[] = [
          ...request.images.map(
            (image): Anthropic.ImageBlockParam => ({
              type: 'image',
              // HEIC/HEIF references are not in the Messages API's list; gateways pass them on as sent.
              source: { type: 'base64', media_type: image.mimeType as Anthropic.Base64ImageSource['media_type'], data: image.data },
            }),
          ),
          { type: 'text', text: request.prompt },
        ];
        const answer = await client.messages.create(
          {
            model,
            max_tokens: MAX_TOKENS,
            ...(request.system ? { system: request.system } : {}),
            // The Messages API has no seed: job validation refuses one for this protocol.
            ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
            messages: [{ role: 'user', content }],
          },
          { signal, timeout: call.timeoutMs },
        );
        return readAnswer('anthropic', () => {
          if (typeof answer !== 'object' || answer === null || !Array.isArray(answer.content)) throw malformedAnswer('anthropic', 'no content list');
          const blocks = answer.content as unknown as (AnswerBlock | null)[];
          if (blocks.some((block) => typeof block !== 'object' || block === null)) throw malformedAnswer('anthropic', 'a content block is not an object');
          const usable = blocks as AnswerBlock[];
          const refused = (answer.stop_reason as string) === 'refusal';
          const images = refused
            ? []
            : usable.flatMap((block) =>
                block.type === 'image' && block.source?.type === 'base64' && typeof block.source.data === 'string' && block.source.data !== ''
                  ? [{ mimeType: typeof block.source.media_type === 'string' ? block.source.media_type : 'image/png', base64: block.source.data }]
                  : [],
              );
          const text = refused ? '' : usable.flatMap((block) => (block.type === 'text' && typeof block.text === 'string' ? [block.text] : [])).join('\n');
          return gatewayAnswer({
            images,
            text,
            finishReason: refused ? 'SAFETY' : 'STOP',
            // Some gateways leave usage out; a flat price (pricing.usdPerImage) does not need it.
            inputTokens: tokenCount('anthropic', answer.usage?.input_tokens),
            outputTokens: tokenCount('anthropic', answer.usage?.output_tokens),
            responseId: answer.id,
            modelVersion: answer.model,
          });
        });
      });
    },
  };
}
