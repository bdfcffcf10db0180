/**
 * Client for the Gemini Developer API over REST (`generativelanguage.googleapis.com`, a gateway
 * with the same wire format, or the bunch emulator).
 *
 * Contract spoken:
 * - `POST /{apiVersion}/models/{model}:generateContent` → GenerateContentResponse (JSON).
 * - `GET /{apiVersion}/models/{model}` → Model resource (name, supportedGenerationMethods, ...).
 *   On both, a 404 is the model (E_MODEL_NOT_FOUND); on files and batches it is E_NOT_FOUND.
 * - JSON calls under `/{apiVersion}/…` (batches, files), streamed downloads
 *   (`files/{id}:download?alt=media`), and the Files API resumable upload (upload-resumable.ts).
 * - Auth: header `x-goog-api-key`. Never the `?key=` query form: query strings end up in proxy and
 *   access logs, headers mostly do not.
 * - Every non-2xx answer and transport failure is a BunchError (classify-outcome.ts). No retries
 *   here: the lanes own retry policy (BullMQ attempts, backoff, RetryInfo).
 * - JSON answers are read up to `maxResponseBytes` (default 64 MiB; a 4K image answer is ~24 MB):
 *   a larger body is abandoned unread and fails E_RESPONSE_TOO_LARGE. Downloads stream to a
 *   file or sink and are not capped by it (a batch result file may be gigabytes).
 *
 * Why raw `fetch` and not `@google/genai`: bunch needs (1) the raw error envelope including
 * google.rpc.RetryInfo details and the Retry-After header (the SDK's ApiError loses headers),
 * (2) a hard per-call deadline it controls, covering the body too, and (3) the batch operation's
 * top-level `error` and `batchStats`, which the SDK drops. The SDK still judges the emulator's
 * wire compatibility in tests.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import { BunchError } from '../errors/bunch-error.js';
import { redactSecrets } from '../errors/redact-secrets.js';
import { untilClosed } from '../storage/until-closed.js';
import { DEFAULT_MAX_RESPONSE_BYTES } from './bounded-body.js';
import {
  createGeminiTransport,
  type CallOptions,
  type ExchangeRequest,
  type HttpMethod,
  type QueryParams,
} from './gemini-transport.js';
import { readModelResource, type ModelResource } from './model-resource.js';
import { parseGenerateResponse, type ParsedGenerateResponse } from './parse-generate-response.js';
import { readGenerateBody } from './stream-generate-body.js';
import { uploadResumable, type GeminiFile, type UploadOptions } from './upload-resumable.js';

export type { CallOptions, HttpMethod } from './gemini-transport.js';
export type { GeminiFile, UploadOptions } from './upload-resumable.js';
export type { ModelResource } from './model-resource.js';

export interface GeminiClientOptions {
  apiKey: string;
  /** Default `https://generativelanguage.googleapis.com`. Without the `/v1beta` part. */
  baseUrl?: string;
  /** Default `v1beta`. */
  apiVersion?: string;
  /** A fetch with its own dispatcher (proxy, gateway, longer undici timeouts). Default: global fetch. */
  fetch?: typeof globalThis.fetch;
  /** Default `bunch`. */
  userAgent?: string;
  /** Largest JSON answer read (generateContent, batch operations), in bytes. Default 64 MiB. */
  maxResponseBytes?: number;
  /**
   * Read a generateContent answer whole and JSON.parse it, as before answers were streamed: body,
   * text and base64 all in memory at once. Only for the memory benchmark's side-by-side
   * (`BUNCH_GEMINI_WHOLE_BODY=1` for `bunch worker`); default false.
   */
  readWholeBody?: boolean;
}

/** The resolved settings. Holds no secret, so it can be logged. */
export interface ResolvedGeminiClientConfig {
  readonly baseUrl: string;
  readonly apiVersion: string;
  readonly userAgent: string;
  readonly maxResponseBytes: number;
}

export interface GenerateResult {
  response: ParsedGenerateResponse;
  /** From sending the request to having parsed the body. */
  latencyMs: number;
  httpStatus: number;
}

export interface RequestOptions extends CallOptions {
  body?: unknown;
  query?: QueryParams;
  /** The path names a model (`models/{m}:batchGenerateContent`): a 404 is E_MODEL_NOT_FOUND. */
  resource?: 'model' | 'other';
}

export interface DownloadResult {
  bytes: number;
}

export interface GeminiClient {
  readonly config: ResolvedGeminiClientConfig;
  generateContent(model: string, request: object, options: CallOptions): Promise<GenerateResult>;
  /** models.get: the model as this key sees it. 404 → E_MODEL_NOT_FOUND. */
  getModel(model: string, options: CallOptions): Promise<ModelResource>;
  /** A JSON call; `path` is relative to `/{apiVersion}/` unless it starts with `/`. Empty body → undefined. */
  request<T>(method: HttpMethod, path: string, options: RequestOptions): Promise<T>;
  /** Streams a body to a Writable, or to a file (written as `<file>.partial`, renamed when complete). */
  download(path: string, destination: Writable | string, options: CallOptions): Promise<DownloadResult>;
  uploadResumable(filePath: string, options: UploadOptions): Promise<GeminiFile>;
}

const DEFAULT_BASE_URL = 'https://generativelanguage.googleapis.com';
const MODEL_PATTERN = /^(?:models\/|tunedModels\/)?[A-Za-z0-9][A-Za-z0-9._-]*$/;

export function resolveGeminiClientConfig(options: Omit<GeminiClientOptions, 'apiKey'>): ResolvedGeminiClientConfig {
  const baseUrl = (options.baseUrl ?? DEFAULT_BASE_URL).replace(/\/+$/, '');
  let parsed: URL;
  try {
    parsed = new URL(baseUrl);
  } catch {
    // Not quoted back: a mistyped value may hold the very secret it was meant to carry.
    throw new BunchError('E_CONFIG', 'Gemini base URL (GEMINI_BASE_URL) is not a valid URL');
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw new BunchError('E_CONFIG', `Gemini base URL must be http(s), got ${parsed.protocol}`);
  }
  if (parsed.search !== '' || parsed.username !== '' || parsed.password !== '') {
    throw new BunchError('E_CONFIG', 'Gemini base URL must not carry a query string or credentials');
  }
  const apiVersion = (options.apiVersion ?? 'v1beta').replace(/^\/+|\/+$/g, '');
  if (!/^[A-Za-z0-9._-]+$/.test(apiVersion)) throw new BunchError('E_CONFIG', `invalid Gemini API version "${apiVersion}"`);
  const maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  if (!Number.isSafeInteger(maxResponseBytes) || maxResponseBytes <= 0) {
    throw new BunchError('E_CONFIG', `maxResponseBytes must be a positive whole number of bytes, got ${maxResponseBytes}`);
  }
  return Object.freeze({ baseUrl, apiVersion, userAgent: options.userAgent ?? 'bunch', maxResponseBytes });
}

/** `models/<id>` (or `tunedModels/<id>`) for a bare or prefixed model name; E_CONFIG for anything else. */
function modelPath(model: string): string {
  if (!MODEL_PATTERN.test(model)) throw new BunchError('E_CONFIG', `invalid model name "${model.slice(0, 100)}"`);
  return model.includes('/') ? model : `models/${model}`;
}

export function createGeminiClient(options: GeminiClientOptions): GeminiClient {
  if (typeof options.apiKey !== 'string' || options.apiKey.trim() === '') {
    throw new BunchError('E_AUTH', 'no Gemini API key configured');
  }
  const config = resolveGeminiClientConfig(options);
  const transport = createGeminiTransport({ ...config, apiKey: options.apiKey, fetch: options.fetch ?? globalThis.fetch });

  async function generateContent(model: string, request: object, call: CallOptions): Promise<GenerateResult> {
    const path = modelPath(model);
    const started = performance.now();
    const { value, response } = await transport.exchange(
      {
        method: 'POST',
        url: transport.url(`${path}:generateContent`),
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(request),
        resource: 'model',
      },
      call,
      // Streamed: image data is decoded as it arrives, never held as body, text and base64 at once.
      options.readWholeBody ? transport.readJson : (answer) => readGenerateBody(answer, config.maxResponseBytes),
    );
    const parsed = parseGenerateResponse(value);
    return { response: parsed, latencyMs: Math.round(performance.now() - started), httpStatus: response.status };
  }

  async function getModel(model: string, call: CallOptions): Promise<ModelResource> {
    const exchange: ExchangeRequest = { method: 'GET', url: transport.url(modelPath(model)), resource: 'model' };
    const { value } = await transport.exchange(exchange, call, transport.readJson);
    return readModelResource(value);
  }

  async function requestJson<T>(method: HttpMethod, path: string, options: RequestOptions): Promise<T> {
    const exchange: ExchangeRequest = { method, url: transport.url(path, options.query) };
    if (options.resource !== undefined) exchange.resource = options.resource;
    if (options.body !== undefined) {
      exchange.headers = { 'content-type': 'application/json' };
      exchange.body = JSON.stringify(options.body);
    }
    const { value } = await transport.exchange(exchange, options, transport.readJson);
    return value as T;
  }

  async function download(path: string, destination: Writable | string, call: CallOptions): Promise<DownloadResult> {
    const partial = typeof destination === 'string' ? `${destination}.partial` : undefined;
    let bytes = 0;
    let sinkError: unknown;
    let file: WriteStream | undefined;
    try {
      await transport.exchange({ method: 'GET', url: transport.url(path) }, call, async (response) => {
        if (partial !== undefined) file = createWriteStream(partial);
        const sink = file ?? (destination as Writable);
        const source = response.body
          ? Readable.fromWeb(response.body as NodeReadableStream<Uint8Array>)
          : Readable.from([] as Buffer[]);
        // pipeline also destroys the sink with the source's error; only the sink's own errors are storage errors.
        let sourceError: unknown;
        source.once('error', (error: unknown) => {
          sourceError = error;
        });
        sink.once('error', (error: unknown) => {
          if (error !== sourceError) sinkError = error;
        });
        source.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
        });
        await pipeline(source, sink);
      });
      if (partial !== undefined) await rename(partial, destination as string);
      return { bytes };
    } catch (error) {
      if (partial !== undefined) {
        // pipeline rejects on the source's error without waiting for the file stream, whose open
        // may still be queued: removing first would let that open land afterwards.
        if (file !== undefined) await untilClosed(file);
        await rm(partial, { force: true });
      }
      if (sinkError !== undefined) {
        const detail = redactSecrets(sinkError instanceof Error ? sinkError.message : String(sinkError), transport.secrets);
        throw new BunchError('E_STORAGE', `cannot write download: ${detail}`, { cause: sinkError });
      }
      throw error;
    }
  }

  return Object.freeze({
    config,
    generateContent,
    getModel,
    request: requestJson,
    download,
    uploadResumable: (filePath: string, upload: UploadOptions) => uploadResumable(transport, config.apiVersion, filePath, upload),
  });
}
