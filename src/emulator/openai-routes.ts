/**
 * OpenAI-compatible image endpoints, backed by the same emulated model as generateContent:
 * `POST /v1/images/generations` and `POST /v1beta/openai/images/generations` (JSON body
 * `{model, prompt, n, size, response_format}`), `POST /v1/images/edits` and
 * `/v1beta/openai/images/edits` (multipart: `image`/`image[]`, `prompt`, ...). Auth:
 * `Authorization: Bearer <key>`; 401 on a missing or wrong key. Answer `{created, data:[{b64_json}],
 * usage}`; errors use OpenAI's `{error:{message,type,param,code}}`. `size` "WxH" picks the closest
 * aspect ratio and (by area) size class of the model (output pixels follow the Gemini table, not WxH).
 * OpenAI model names (gpt-image-*, dall-e-*) map to the default model gemini-2.5-flash-image. As
 * on Google's real compatibility layer (backed by :predict), gemini-3.1-flash-image-* is 404 on
 * the `/v1beta/openai` path.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { findImageModel, type ImageModelInfo, type ImageSize } from '../gemini/model-catalog.js';
import { deliverResponse } from './deliver-response.js';
import type { EmulatorServices } from './emulator-services.js';
import type { EngineResult, TransportPlan } from './generation-engine.js';
import { GoogleApiError, sendJson } from './google-error.js';
import { readKnobOverrides } from './knob-overrides-header.js';
import { parseMultipartForm } from './multipart-form.js';
import { parseJsonBody, readBody } from './read-body.js';
import type { Route, RouteContext } from './route.js';

export const DEFAULT_MODEL = 'gemini-2.5-flash-image';
export const OPENAI_MODEL_NAMES = /^(gpt-image|dall-e|chatgpt-image)/;
const SAFETY_FINISH = new Set(['IMAGE_SAFETY', 'IMAGE_PROHIBITED_CONTENT', 'SAFETY', 'PROHIBITED_CONTENT']);

export class OpenAiError extends Error {
  constructor(
    readonly httpStatus: number,
    message: string,
    readonly type: string,
    readonly code: string | null = null,
    readonly param: string | null = null,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  body(): unknown {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

interface ImageJob {
  model: string;
  prompt: string;
  n: number;
  size: string | undefined;
  images: { mimeType: string; data: Buffer }[];
  googlePath: boolean;
}

export function createOpenAiRoutes(services: EmulatorServices): Route[] {
  const generations = (googlePath: boolean) => (context: RouteContext) =>
    guard(context.res, async () => {
      authenticate(context.req, services.apiKey);
      const body = parseJsonBody(await readBody(context.req));
      const job = readGenerationJob(body, googlePath);
      await answer(services, context, job);
    });
  const edits = (googlePath: boolean) => (context: RouteContext) =>
    guard(context.res, async () => {
      authenticate(context.req, services.apiKey);
      const job = readEditJob(await readBody(context.req), context.req.headers['content-type'] ?? '', googlePath);
      await answer(services, context, job);
    });
  return [
    { method: 'POST', pattern: /^\/v1\/images\/generations$/, name: 'openai.images.generations', handle: generations(false) },
    { method: 'POST', pattern: /^\/v1beta\/openai\/images\/generations$/, name: 'openai.images.generations', handle: generations(true) },
    { method: 'POST', pattern: /^\/v1\/images\/edits$/, name: 'openai.images.edits', handle: edits(false) },
    { method: 'POST', pattern: /^\/v1beta\/openai\/images\/edits$/, name: 'openai.images.edits', handle: edits(true) },
  ];
}

export async function guard(res: ServerResponse, run: () => Promise<void>): Promise<void> {
  try {
    await run();
  } catch (error) {
    if (res.headersSent || res.destroyed) return;
    const openAi = error instanceof OpenAiError ? error : error instanceof GoogleApiError ? fromGoogle(error) : undefined;
    if (!openAi) throw error;
    sendJson(res, openAi.httpStatus, openAi.body(), openAi.headers);
  }
}

export function authenticate(req: IncomingMessage, expected: string | null): void {
  if (expected === null) return;
  const header = req.headers.authorization ?? '';
  const key = /^Bearer\s+(.+)$/i.exec(header)?.[1]?.trim();
  if (!key) {
    throw new OpenAiError(
      401,
      "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
      'invalid_request_error',
    );
  }
  if (key !== expected) throw new OpenAiError(401, 'Incorrect API key provided.', 'invalid_request_error', 'invalid_api_key');
}

function readGenerationJob(raw: unknown, googlePath: boolean): ImageJob {
  const body = (raw ?? {}) as Record<string, unknown>;
  return commonJob(
    {
      model: body['model'],
      prompt: body['prompt'],
      n: body['n'],
      size: body['size'],
      responseFormat: body['response_format'],
    },
    [],
    googlePath,
  );
}

function readEditJob(body: Buffer, contentType: string, googlePath: boolean): ImageJob {
  const parts = parseMultipartForm(body, contentType);
  if (!parts) throw new OpenAiError(400, 'Expected a multipart/form-data body.', 'invalid_request_error');
  const field = (name: string): string | undefined => parts.find((part) => part.name === name)?.data.toString('utf8');
  const images = parts
    .filter((part) => part.name === 'image' || part.name === 'image[]')
    .map((part) => ({ mimeType: part.contentType ?? 'image/png', data: part.data }));
  if (images.length === 0) throw new OpenAiError(400, "Missing required parameter: 'image'.", 'invalid_request_error', null, 'image');
  const n = field('n');
  return commonJob(
    { model: field('model'), prompt: field('prompt'), n: n === undefined ? undefined : Number(n), size: field('size'), responseFormat: field('response_format') },
    images,
    googlePath,
  );
}

function commonJob(
  fields: { model: unknown; prompt: unknown; n: unknown; size: unknown; responseFormat: unknown },
  images: ImageJob['images'],
  googlePath: boolean,
): ImageJob {
  if (typeof fields.prompt !== 'string' || fields.prompt === '') {
    throw new OpenAiError(400, "Missing required parameter: 'prompt'.", 'invalid_request_error', null, 'prompt');
  }
  const n = fields.n ?? 1;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 10) {
    throw new OpenAiError(400, `Invalid value for 'n': expected an integer between 1 and 10.`, 'invalid_request_error', null, 'n');
  }
  if (fields.responseFormat !== undefined && fields.responseFormat !== 'b64_json') {
    throw new OpenAiError(400, "Only response_format 'b64_json' is supported.", 'invalid_request_error', null, 'response_format');
  }
  const requested = typeof fields.model === 'string' && fields.model !== '' ? fields.model : DEFAULT_MODEL;
  const model = OPENAI_MODEL_NAMES.test(requested) ? DEFAULT_MODEL : requested.replace(/^models\//, '');
  if (googlePath && model.startsWith('gemini-3.1-flash-image')) {
    throw new OpenAiError(
      404,
      `models/${model} is not found for API version v1main, or is not supported for predict. Call ListModels to see the list of available models and their supported methods.`,
      'invalid_request_error',
      'model_not_found',
      'model',
    );
  }
  if (!findImageModel(model)) {
    throw new OpenAiError(404, `The model \`${model}\` does not exist or you do not have access to it.`, 'invalid_request_error', 'model_not_found', 'model');
  }
  return { model, prompt: fields.prompt, n, size: typeof fields.size === 'string' ? fields.size : undefined, images, googlePath };
}

/** "WxH" → the model's closest aspect ratio and size class; "auto"/absent → the API defaults. */
function imageConfigFor(model: ImageModelInfo, size: string | undefined): Record<string, string> {
  if (size === undefined || size === 'auto') return {};
  const match = /^(\d+)x(\d+)$/.exec(size);
  if (!match) throw new OpenAiError(400, `Invalid value for 'size': ${JSON.stringify(size)}.`, 'invalid_request_error', null, 'size');
  const width = Number(match[1]);
  const height = Number(match[2]);
  let aspectRatio = model.aspectRatios[0] ?? '1:1';
  let best = Number.POSITIVE_INFINITY;
  for (const ratio of model.aspectRatios) {
    const [w = 1, h = 1] = ratio.split(':').map(Number);
    const distance = Math.abs(Math.log(w / h) - Math.log(width / height));
    if (distance < best) {
      best = distance;
      aspectRatio = ratio;
    }
  }
  // Size class by area, split at the geometric means of 512², 1024², 2048², 4096².
  const megapixels = (width * height) / 1_048_576;
  const wanted: ImageSize = megapixels <= 0.5 ? '512' : megapixels <= 2 ? '1K' : megapixels <= 8 ? '2K' : '4K';
  const imageSize = model.imageSizes.includes(wanted) ? wanted : model.imageSizes.includes('1K') ? '1K' : (model.imageSizes[0] ?? '1K');
  return { aspectRatio, imageSize };
}

async function answer(services: EmulatorServices, { req, res }: RouteContext, job: ImageJob): Promise<void> {
  const overrides = readKnobOverrides(req);
  const model = findImageModel(job.model);
  if (!model) throw new OpenAiError(404, `The model \`${job.model}\` does not exist.`, 'invalid_request_error', 'model_not_found');
  const imageConfig = imageConfigFor(model, job.size);
  const parts: Record<string, unknown>[] = [{ text: job.prompt }];
  for (const image of job.images) parts.push({ inlineData: { mimeType: image.mimeType, data: image.data.toString('base64') } });

  const results: EngineResult[] = [];
  for (let index = 0; index < job.n; index += 1) {
    const request = {
      contents: [{ role: 'user', parts }],
      generationConfig: { responseModalities: ['IMAGE'], imageConfig, ...(index === 0 ? {} : { seed: index }) },
    };
    const result = await services.engine.run(job.model, request, { transport: true, overrides });
    results.push(result);
    if (!result.outcome.ok || result.fault !== undefined) break;
  }
  const first = results[0];
  const decisive = results.find((result) => !result.outcome.ok || result.fault !== undefined) ?? first;
  if (!first || !decisive) return;
  services.requestLog.annotate(req, {
    model: job.model,
    ...(first.promptHash === undefined ? {} : { promptHash: first.promptHash }),
    ...(decisive.fault === undefined ? {} : { fault: decisive.fault }),
    ...(first.inputImages === undefined ? {} : { inputImages: first.inputImages }),
  });
  const plan: TransportPlan = { ...decisive.transport, delayMs: Math.max(...results.map((result) => result.transport.delayMs)) };
  if (!decisive.outcome.ok) {
    const error = fromGoogle(decisive.outcome.error);
    await deliverResponse(res, plan, { status: error.httpStatus, body: JSON.stringify(error.body()), headers: error.headers }, services.shutdown);
    return;
  }

  const data: Record<string, unknown>[] = [];
  let inputTokens = 0;
  let outputTokens = 0;
  let textTokens = 0;
  let imageTokens = 0;
  let pixelSize = '';
  for (const result of results) {
    if (!result.outcome.ok) continue;
    const response = result.outcome.response as GeminiResponse;
    const refusal = refusalOf(response);
    if (refusal) {
      await deliverResponse(res, plan, { status: refusal.httpStatus, body: JSON.stringify(refusal.body()) }, services.shutdown);
      return;
    }
    const image = response.candidates?.[0]?.content?.parts?.find((part) => part.inlineData !== undefined)?.inlineData;
    if (image) {
      data.push({ b64_json: image.data });
      pixelSize ||= pngSize(image.data);
    }
    const usage = response.usageMetadata ?? {};
    inputTokens += usage.promptTokenCount ?? 0;
    outputTokens += (usage.candidatesTokenCount ?? 0) + (usage.thoughtsTokenCount ?? 0);
    for (const detail of usage.promptTokensDetails ?? []) {
      if (detail.modality === 'TEXT') textTokens += detail.tokenCount ?? 0;
      if (detail.modality === 'IMAGE') imageTokens += detail.tokenCount ?? 0;
    }
  }
  if (data.length === 0) {
    const error = new OpenAiError(500, 'The model returned no image.', 'server_error');
    await deliverResponse(res, plan, { status: 500, body: JSON.stringify(error.body()) }, services.shutdown);
    return;
  }
  const body = {
    created: Math.floor(Date.now() / 1000),
    data,
    output_format: 'png',
    ...(pixelSize ? { size: pixelSize } : {}),
    usage: {
      total_tokens: inputTokens + outputTokens,
      input_tokens: inputTokens,
      output_tokens: outputTokens,
      input_tokens_details: { text_tokens: textTokens, image_tokens: imageTokens },
    },
  };
  await deliverResponse(res, plan, { status: 200, body: JSON.stringify(body) }, services.shutdown);
}

export interface GeminiResponse {
  candidates?: { finishReason?: string; content?: { parts?: { text?: string; thought?: boolean; inlineData?: { mimeType?: string; data: string } }[] } }[];
  promptFeedback?: { blockReason?: string };
  usageMetadata?: {
    promptTokenCount?: number;
    candidatesTokenCount?: number;
    thoughtsTokenCount?: number;
    promptTokensDetails?: { modality?: string; tokenCount?: number }[];
  };
}

export function refusalOf(response: GeminiResponse): OpenAiError | undefined {
  const reason = response.promptFeedback?.blockReason ?? response.candidates?.[0]?.finishReason ?? 'STOP';
  if (response.promptFeedback?.blockReason !== undefined || SAFETY_FINISH.has(reason)) {
    return new OpenAiError(400, `Your request was rejected by the safety system (${reason}).`, 'invalid_request_error', 'content_policy_violation');
  }
  return undefined;
}

function pngSize(base64: string): string {
  const header = Buffer.from(base64.slice(0, 44), 'base64');
  if (header.length < 24 || header.toString('ascii', 1, 4) !== 'PNG') return '';
  return `${header.readUInt32BE(16)}x${header.readUInt32BE(20)}`;
}

export function fromGoogle(error: GoogleApiError): OpenAiError {
  const type =
    error.httpStatus === 429 ? 'rate_limit_exceeded' : error.httpStatus >= 500 ? 'server_error' : 'invalid_request_error';
  const code = error.httpStatus === 429 ? 'rate_limit_exceeded' : error.httpStatus === 404 ? 'model_not_found' : null;
  return new OpenAiError(error.httpStatus, error.message, type, code, null, error.headers);
}
