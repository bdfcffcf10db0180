/**
 * One HTTP exchange with the Gemini API under one hard deadline (see call-deadline.ts).
 *
 * Contract: the key travels only as the `x-goog-api-key` header and only to the configured origin;
 * GET redirects are followed by hand (fetch's own redirect mode would forward custom headers to
 * any host). Non-2xx answers are read (their first 64 KiB: only an excerpt is ever shown) and
 * classified (classifyHttpError, told whether the URL names a model); transport failures are
 * classified by what was happening when they struck (classifyNetworkError). JSON bodies are read
 * up to `maxResponseBytes` (bounded-body.ts): a larger one is E_RESPONSE_TOO_LARGE. Node's bundled
 * undici has its own 300 s header/body timeouts; a longer deadline needs a gateway `fetch` with its
 * own dispatcher, and undici's timeouts are classified as E_TIMEOUT too.
 */
import { readBodyHead, readBodyWithin } from './bounded-body.js';
import { startCallDeadline } from './call-deadline.js';
import { classifyHttpError, classifyNetworkError } from './classify-outcome.js';

export type HttpMethod = 'GET' | 'POST' | 'PATCH' | 'DELETE';

export interface CallOptions {
  /** Hard deadline for the whole call, body included. */
  timeoutMs: number;
  signal?: AbortSignal;
}

export interface ExchangeRequest {
  method: HttpMethod;
  url: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  /** The URL names a model (generateContent, models.get, batchGenerateContent): a 404 is E_MODEL_NOT_FOUND. */
  resource?: 'model' | 'other';
}

export type QueryParams = Record<string, string | number | boolean | undefined>;

export interface GeminiTransport {
  readonly origin: string;
  /** `/{apiVersion}/{path}` for relative paths, `{path}` as is when it starts with `/`. */
  url(path: string, query?: QueryParams): string;
  /** Sends, classifies non-2xx, and runs `consume` on the body while the deadline still holds. */
  exchange<T>(request: ExchangeRequest, call: CallOptions, consume: (response: Response) => Promise<T>): Promise<{ value: T; response: Response }>;
  /** Reads a JSON body of at most `maxResponseBytes`; an empty body is `undefined` (cancel/delete answers). */
  readJson(response: Response): Promise<unknown>;
  /** Secret values to mask in any message built from upstream text. */
  readonly secrets: readonly string[];
}

export interface GeminiTransportOptions {
  baseUrl: string;
  apiVersion: string;
  userAgent: string;
  apiKey: string;
  fetch: typeof globalThis.fetch;
  /** Largest JSON body read (generateContent answers, batch operations); larger is E_RESPONSE_TOO_LARGE. */
  maxResponseBytes: number;
}

const MAX_REDIRECTS = 5;
/** Error answers are read this far: enough for any Google envelope, bounded for a runaway error page. */
const ERROR_BODY_BYTES = 64 * 1024;

export function createGeminiTransport(options: GeminiTransportOptions): GeminiTransport {
  const origin = new URL(options.baseUrl).origin;
  const secrets = Object.freeze([options.apiKey]);

  function url(path: string, query?: QueryParams): string {
    const absolutePath = path.startsWith('/') ? path : `/${options.apiVersion}/${path}`;
    const result = new URL(options.baseUrl + absolutePath);
    for (const [name, value] of Object.entries(query ?? {})) {
      if (value !== undefined) result.searchParams.set(name, String(value));
    }
    return result.toString();
  }

  function headersFor(extra: Record<string, string>, target: string): Record<string, string> {
    const headers: Record<string, string> = { 'user-agent': options.userAgent, ...extra };
    if (new URL(target).origin === origin) headers['x-goog-api-key'] = options.apiKey;
    return headers;
  }

  async function exchange<T>(
    request: ExchangeRequest,
    call: CallOptions,
    consume: (response: Response) => Promise<T>,
  ): Promise<{ value: T; response: Response }> {
    const deadline = startCallDeadline(call.timeoutMs, call.signal);
    let duringBody = false;
    try {
      let target = request.url;
      let response: Response;
      for (let hop = 0; ; hop++) {
        response = await options.fetch(target, {
          method: request.method,
          headers: headersFor(request.headers ?? {}, target),
          body: request.body ?? null,
          redirect: 'manual',
          signal: deadline.signal,
        });
        const location = response.headers.get('location');
        const redirected = response.status >= 300 && response.status < 400 && location !== null;
        if (!redirected || request.method !== 'GET' || hop >= MAX_REDIRECTS) break;
        await response.body?.cancel();
        target = new URL(location, target).toString();
      }
      duringBody = true;
      if (!response.ok) {
        const text = await readBodyHead(response, ERROR_BODY_BYTES);
        throw classifyHttpError(response.status, text, response.headers, { secrets, resource: request.resource ?? 'other' });
      }
      const value = await consume(response);
      return { value, response };
    } catch (error) {
      throw classifyNetworkError(error, {
        timedOut: deadline.timedOut(),
        cancelled: deadline.cancelled(),
        duringBody,
        secrets,
      });
    } finally {
      deadline.clear();
    }
  }

  const readJson = (response: Response): Promise<unknown> => readJsonBody(response, options.maxResponseBytes);

  return Object.freeze({ origin, url, exchange, readJson, secrets });
}

/**
 * Reads a JSON body of at most `maxBytes`; an empty body is `undefined` (Empty answers like
 * cancel/delete). The raw buffer is dropped before parsing: per call the worker then holds the
 * JSON text and the parsed value, not also a raw copy.
 */
export async function readJsonBody(response: Response, maxBytes: number): Promise<unknown> {
  const text = (await readBodyWithin(response, maxBytes)).toString('utf8');
  return text.trim() === '' ? undefined : (JSON.parse(text) as unknown);
}
