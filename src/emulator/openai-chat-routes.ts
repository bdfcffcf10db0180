/**
 * `POST /v1/chat/completions` as image gateways answer it: the same emulated model as
 * generateContent, with OpenAI's chat request (`messages` with `text` and data-URL `image_url`
 * parts, a `system` message) and the gateways' extension for drawn images,
 * `choices[0].message.images[] = {type: 'image_url', image_url: {url: 'data:image/png;base64,…'}}`.
 * `modalities: ['image', 'text']` asks for a picture, `['text']` for words only; without it an
 * image model draws (what gateways in front of the image models do). A refused prompt or image is
 * `finish_reason: 'content_filter'` with no content, as OpenAI reports filtered completions. Auth
 * and errors as the Images routes (`Authorization: Bearer`, `{error:{message,type,param,code}}`),
 * with the same knobs and trigger phrases, so faults reach the `openai` client's chat path too.
 */
import { createHash } from 'node:crypto';
import { findImageModel } from '../gemini/model-catalog.js';
import { deliverResponse } from './deliver-response.js';
import type { EmulatorServices } from './emulator-services.js';
import { readKnobOverrides } from './knob-overrides-header.js';
import { authenticate, DEFAULT_MODEL, fromGoogle, guard, OPENAI_MODEL_NAMES, OpenAiError, type GeminiResponse } from './openai-routes.js';
import { parseJsonBody, readBody } from './read-body.js';
import type { Route, RouteContext } from './route.js';

const DATA_URL = /^data:([^;,]+);base64,(.*)$/s;
const REFUSALS = new Set(['IMAGE_SAFETY', 'IMAGE_PROHIBITED_CONTENT', 'SAFETY', 'PROHIBITED_CONTENT']);

export function createOpenAiChatRoutes(services: EmulatorServices): Route[] {
  const handle = (context: RouteContext) =>
    guard(context.res, async () => {
      authenticate(context.req, services.apiKey);
      const body = parseJsonBody(await readBody(context.req));
      await answer(services, context, body);
    });
  return [{ method: 'POST', pattern: /^\/v1\/chat\/completions$/, name: 'openai.chat.completions', handle }];
}

/** The chat request as a GenerateContentRequest for the engine. */
function toGenerateRequest(raw: unknown): { model: string; request: Record<string, unknown> } {
  const body = (raw ?? {}) as Record<string, unknown>;
  const requested = typeof body['model'] === 'string' && body['model'] !== '' ? body['model'] : undefined;
  if (!requested) throw new OpenAiError(400, "Missing required parameter: 'model'.", 'invalid_request_error', null, 'model');
  const model = OPENAI_MODEL_NAMES.test(requested) ? DEFAULT_MODEL : requested.replace(/^models\//, '');
  if (!findImageModel(model)) {
    throw new OpenAiError(404, `The model \`${model}\` does not exist or you do not have access to it.`, 'invalid_request_error', 'model_not_found', 'model');
  }
  const messages = body['messages'];
  if (!Array.isArray(messages) || messages.length === 0) {
    throw new OpenAiError(400, "Missing required parameter: 'messages'.", 'invalid_request_error', null, 'messages');
  }
  const system: string[] = [];
  const parts: Record<string, unknown>[] = [];
  messages.forEach((message: unknown, index: number) => {
    const { role, content } = (message ?? {}) as { role?: unknown; content?: unknown };
    const where = `messages[${index}]`;
    if (role === 'system' || role === 'developer') {
      if (typeof content === 'string') system.push(content);
      return;
    }
    if (role !== 'user') throw new OpenAiError(400, `Invalid value for '${where}.role': only system and user messages are supported.`, 'invalid_request_error', null, `${where}.role`);
    if (typeof content === 'string') {
      parts.push({ text: content });
      return;
    }
    if (!Array.isArray(content)) throw new OpenAiError(400, `Invalid type for '${where}.content'.`, 'invalid_request_error', null, `${where}.content`);
    content.forEach((part: unknown, partIndex: number) => {
      const entry = (part ?? {}) as { type?: unknown; text?: unknown; image_url?: { url?: unknown } };
      if (entry.type === 'text' && typeof entry.text === 'string') parts.push({ text: entry.text });
      else if (entry.type === 'image_url') {
        const match = DATA_URL.exec(typeof entry.image_url?.url === 'string' ? entry.image_url.url : '');
        if (!match) {
          // The emulator never fetches: references travel inline, as bunch sends them.
          throw new OpenAiError(400, `Invalid image URL in '${where}.content[${partIndex}]': expected a base64 data URL.`, 'invalid_request_error', null, `${where}.content`);
        }
        parts.push({ inlineData: { mimeType: match[1], data: match[2] } });
      } else throw new OpenAiError(400, `Invalid content part in '${where}.content[${partIndex}]'.`, 'invalid_request_error', null, `${where}.content`);
    });
  });
  const modalities = Array.isArray(body['modalities']) ? body['modalities'].map((entry) => String(entry).toUpperCase()) : ['TEXT', 'IMAGE'];
  const request: Record<string, unknown> = {
    contents: [{ role: 'user', parts }],
    generationConfig: { responseModalities: modalities.filter((entry) => entry === 'TEXT' || entry === 'IMAGE') },
  };
  if (system.length > 0) request['systemInstruction'] = { parts: [{ text: system.join('\n') }] };
  return { model, request };
}

async function answer(services: EmulatorServices, { req, res }: RouteContext, raw: unknown): Promise<void> {
  const { model, request } = toGenerateRequest(raw);
  const result = await services.engine.run(model, request, { transport: true, overrides: readKnobOverrides(req) });
  services.requestLog.annotate(req, {
    model,
    ...(result.promptHash === undefined ? {} : { promptHash: result.promptHash }),
    ...(result.fault === undefined ? {} : { fault: result.fault }),
    ...(result.inputImages === undefined ? {} : { inputImages: result.inputImages }),
  });
  if (!result.outcome.ok) {
    const error = fromGoogle(result.outcome.error);
    await deliverResponse(res, result.transport, { status: error.httpStatus, body: JSON.stringify(error.body()), headers: error.headers }, services.shutdown);
    return;
  }
  const response = result.outcome.response as GeminiResponse;
  const candidate = response.candidates?.[0];
  const reason = response.promptFeedback?.blockReason ?? candidate?.finishReason ?? 'STOP';
  const refused = response.promptFeedback?.blockReason !== undefined || REFUSALS.has(reason);
  const parts = (candidate?.content?.parts ?? []).filter((part) => part.thought !== true);
  const text = parts.flatMap((part) => (part.text === undefined ? [] : [part.text])).join('\n');
  const images = parts.flatMap((part) =>
    part.inlineData ? [{ type: 'image_url', image_url: { url: `data:${part.inlineData.mimeType ?? 'image/png'};base64,${part.inlineData.data}` } }] : [],
  );
  const usage = response.usageMetadata ?? {};
  const promptTokens = usage.promptTokenCount ?? 0;
  const completionTokens = (usage.candidatesTokenCount ?? 0) + (usage.thoughtsTokenCount ?? 0);
  const body = {
    id: `chatcmpl-${createHash('sha256').update(`${result.promptHash ?? ''}:${Date.now()}:${Math.random()}`).digest('hex').slice(0, 24)}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [
      {
        index: 0,
        message: refused ? { role: 'assistant', content: null, refusal: null } : { role: 'assistant', content: text === '' ? null : text, refusal: null, ...(images.length > 0 ? { images } : {}) },
        finish_reason: refused ? 'content_filter' : 'stop',
        logprobs: null,
      },
    ],
    usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens },
  };
  await deliverResponse(res, result.transport, { status: 200, body: JSON.stringify(body) }, services.shutdown);
}
