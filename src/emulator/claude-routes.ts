/**
 * Claude-compatible `POST /v1/messages` (Anthropic Messages API shape) backed by the emulated
 * Gemini image model: auth `x-api-key` or `Authorization: Bearer`; body `{model, max_tokens?,
 * system?, messages:[{role, content: string | [{type:'text'}|{type:'image',source:{type:'base64'}}]}]}`
 * plus an emulator extension `image_config:{aspect_ratio, image_size}`. `model` must be a Gemini
 * image model id. Answer: a `message` whose content is a text block and an `image` block
 * `{type:'image',source:{type:'base64',media_type:'image/png',data}}`; safety outcomes answer 200
 * with stop_reason `refusal`. Errors: `{type:'error',error:{type,message}}`; 503 becomes 529
 * overloaded_error as on Anthropic's API.
 */
import type { IncomingMessage } from 'node:http';
import { deliverResponse } from './deliver-response.js';
import type { EmulatorServices } from './emulator-services.js';
import { requestAnnotationOf } from './generation-engine.js';
import { GoogleApiError, sendJson } from './google-error.js';
import { readKnobOverrides } from './knob-overrides-header.js';
import { parseJsonBody, readBody } from './read-body.js';
import type { Route, RouteContext } from './route.js';

const ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  529: 'overloaded_error',
};
const REFUSALS = new Set(['IMAGE_SAFETY', 'IMAGE_PROHIBITED_CONTENT', 'SAFETY', 'PROHIBITED_CONTENT']);

class ClaudeError extends Error {
  constructor(
    readonly httpStatus: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  body(): unknown {
    return { type: 'error', error: { type: ERROR_TYPES[this.httpStatus] ?? 'api_error', message: this.message } };
  }
}

export function createClaudeRoutes(services: EmulatorServices): Route[] {
  return [{ method: 'POST', pattern: /^\/v1\/messages$/, name: 'claude.messages', handle: (context) => handle(services, context) }];
}

async function handle(services: EmulatorServices, context: RouteContext): Promise<void> {
  try {
    await answer(services, context);
  } catch (error) {
    const { res } = context;
    if (res.headersSent || res.destroyed) return;
    const claude = error instanceof ClaudeError ? error : error instanceof GoogleApiError ? fromGoogle(error) : undefined;
    if (!claude) throw error;
    sendJson(res, claude.httpStatus, claude.body(), claude.headers);
  }
}

function authenticate(req: IncomingMessage, expected: string | null): void {
  if (expected === null) return;
  const header = req.headers['x-api-key'];
  const key = (Array.isArray(header) ? header[0] : header) ?? /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1];
  if (!key || key !== expected) throw new ClaudeError(401, 'invalid x-api-key');
}

interface ClaudeBlock {
  type?: string;
  text?: string;
  source?: { type?: string; media_type?: string; data?: string };
}

function toParts(content: unknown, where: string): Record<string, unknown>[] {
  if (typeof content === 'string') return [{ text: content }];
  if (!Array.isArray(content)) throw new ClaudeError(400, `${where}: Input should be a valid list`);
  return (content as ClaudeBlock[]).flatMap((block): Record<string, unknown>[] => {
    if (block.type === 'text' && typeof block.text === 'string') return [{ text: block.text }];
    if (block.type === 'image' && block.source?.type === 'base64' && typeof block.source.data === 'string') {
      return [{ inlineData: { mimeType: block.source.media_type ?? 'image/png', data: block.source.data } }];
    }
    return [];
  });
}

async function answer(services: EmulatorServices, { req, res }: RouteContext): Promise<void> {
  authenticate(req, services.apiKey);
  const overrides = readKnobOverrides(req);
  const body = (parseJsonBody(await readBody(req)) ?? {}) as Record<string, unknown>;
  const model = body['model'];
  if (typeof model !== 'string' || model === '') throw new ClaudeError(400, 'model: Field required');
  const messages = body['messages'];
  if (!Array.isArray(messages) || messages.length === 0) throw new ClaudeError(400, 'messages: Field required');
  const contents = (messages as { role?: unknown; content?: unknown }[]).map((message, index) => ({
    role: message.role === 'assistant' ? 'model' : 'user',
    parts: toParts(message.content, `messages.${index}.content`),
  }));
  const request: Record<string, unknown> = {
    contents,
    generationConfig: { responseModalities: ['TEXT', 'IMAGE'], ...(body['image_config'] === undefined ? {} : { imageConfig: body['image_config'] }) },
  };
  if (body['system'] !== undefined) request['systemInstruction'] = { parts: toParts(body['system'], 'system') };

  const result = await services.engine.run(model, request, { transport: true, overrides });
  services.requestLog.annotate(req, requestAnnotationOf(result));
  if (!result.outcome.ok) {
    const error = fromGoogle(result.outcome.error);
    await deliverResponse(res, result.transport, { status: error.httpStatus, body: JSON.stringify(error.body()), headers: error.headers }, services.shutdown);
    return;
  }
  const response = result.outcome.response as {
    candidates?: { finishReason?: string; content?: { parts?: { text?: string; thought?: boolean; inlineData?: { mimeType: string; data: string } }[] } }[];
    promptFeedback?: { blockReason?: string };
    usageMetadata?: { promptTokenCount?: number; candidatesTokenCount?: number; thoughtsTokenCount?: number };
    responseId?: string;
  };
  const candidate = response.candidates?.[0];
  const reason = response.promptFeedback?.blockReason ?? candidate?.finishReason ?? 'STOP';
  const content: Record<string, unknown>[] = [];
  for (const part of candidate?.content?.parts ?? []) {
    if (part.thought === true) continue;
    if (typeof part.text === 'string') content.push({ type: 'text', text: part.text });
    if (part.inlineData) content.push({ type: 'image', source: { type: 'base64', media_type: part.inlineData.mimeType, data: part.inlineData.data } });
  }
  const refused = response.promptFeedback?.blockReason !== undefined || REFUSALS.has(reason);
  if (refused) content.push({ type: 'text', text: `The request was declined by the safety system (${reason}).` });
  const usage = response.usageMetadata ?? {};
  const message = {
    id: `msg_${response.responseId ?? 'emulator'}`,
    type: 'message',
    role: 'assistant',
    model,
    content,
    stop_reason: refused ? 'refusal' : 'end_turn',
    stop_sequence: null,
    usage: {
      input_tokens: usage.promptTokenCount ?? 0,
      output_tokens: (usage.candidatesTokenCount ?? 0) + (usage.thoughtsTokenCount ?? 0),
    },
  };
  await deliverResponse(res, result.transport, { status: 200, body: JSON.stringify(message) }, services.shutdown);
}

function fromGoogle(error: GoogleApiError): ClaudeError {
  const status = error.httpStatus === 503 ? 529 : error.httpStatus;
  return new ClaudeError(status, error.message, error.headers);
}

