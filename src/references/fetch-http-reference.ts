/**
 * Fetches one reference image over HTTP(S) from a location a catalog row or job file named,
 * through the SSRF guard. The contract it speaks:
 *   - GET only, `accept-encoding: identity` (the bytes counted are the bytes kept), a fresh
 *     connection per request (`agent: false`, `connection: close`); no cookies, no auth.
 *   - http: and https: only; a URL with a user name or password is refused (`bad-location`).
 *   - Every hop's address passes the guard: an IP-literal host is checked before connecting, a
 *     host name is resolved by our own `lookup`, which refuses if ANY resolved address is blocked
 *     and hands the socket exactly the addresses it checked (no second resolution, so DNS
 *     rebinding cannot swap them) → `blocked-address`.
 *   - 301, 302, 303, 307, 308 followed by hand (relative Location resolved against the hop),
 *     at most `maxRedirects` → `too-many-redirects`; https→http is followed, still guarded.
 *   - 2xx → body; 404, 410 → `not-found`; any other status → `http-status`.
 *   - `connectTimeoutMs` per hop (lookup + TCP + TLS), `timeoutMs` for the whole location (every
 *     hop and the body), the caller's signal → `timeout`; bytes past `maxBytes` (declared or
 *     streamed) → `too-large`; socket, DNS and TLS failures → `network`.
 * Messages name the location with `displayUrl` (no query, no userinfo); causes are re-wrapped
 * with the query strings redacted, because signed URLs carry their secret there.
 */
import type { LookupAddress } from 'node:dns';
import { guardedLookup, refusalOf } from './guarded-lookup.js';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction, type Socket } from 'node:net';
import { BunchError } from '../errors/bunch-error.js';
import { redactSecrets } from '../errors/redact-secrets.js';
import { displayUrl } from './display-url.js';
import { parseRetryAfterHeader } from '../gemini/retry-delay.js';
import type { AddressPolicy, ReferenceFailureReason, ReferenceFetchLimits } from './reference-fetch-options.js';

export interface FetchedBody {
  bytes: Buffer;
  /** The URL the body came from after redirects, query included: pass it through `displayUrl` before showing it. */
  finalUrl: string;
  contentType: string | undefined;
  /** Redirect hops followed. */
  redirects: number;
}

export interface FetchHttpReferenceOptions {
  limits: ReferenceFetchLimits;
  policy: AddressPolicy;
  /** Cancels the fetch (reason `timeout`, message "cancelled"). */
  signal?: AbortSignal;
  userAgent?: string;
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const DEFAULT_USER_AGENT = 'bunch (reference fetcher)';

/** What every hop of one fetch shares. */
interface FetchContext {
  readonly limits: ReferenceFetchLimits;
  readonly policy: AddressPolicy;
  readonly userAgent: string;
  /** The location as first named, for messages. */
  readonly display: string;
  /** Aborted by the deadline or the caller; its reason is the BunchError to throw. */
  readonly signal: AbortSignal;
  /** Query strings of every hop, redacted from any foreign error text. */
  readonly secrets: string[];
}

export async function fetchHttpReference(url: string, options: FetchHttpReferenceOptions): Promise<FetchedBody> {
  const display = displayUrl(url);
  const controller = new AbortController();
  const abort = (error: BunchError): void => {
    if (!controller.signal.aborted) controller.abort(error);
  };
  const timer = setTimeout(
    () => abort(failure(`reference ${display} took longer than ${options.limits.timeoutMs} ms in total (references.timeout)`, 'timeout')),
    options.limits.timeoutMs,
  );
  const onCallerAbort = (): void => abort(failure(`reference ${display}: fetch cancelled`, 'timeout'));
  if (options.signal?.aborted) onCallerAbort();
  else options.signal?.addEventListener('abort', onCallerAbort, { once: true });

  const context: FetchContext = {
    limits: options.limits,
    policy: options.policy,
    userAgent: options.userAgent ?? DEFAULT_USER_AGENT,
    display,
    signal: controller.signal,
    secrets: [],
  };
  try {
    return await follow(url, context);
  } catch (error) {
    // Once the deadline or the caller has spoken, whatever broke afterwards is a consequence.
    if (controller.signal.aborted) throw controller.signal.reason as BunchError;
    if (error instanceof BunchError) throw error;
    throw networkFailure(error, `reference ${display}`, context.secrets);
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onCallerAbort);
  }
}

async function follow(url: string, context: FetchContext): Promise<FetchedBody> {
  const { limits } = context;
  let target = checkedLocation(url, undefined, context);
  for (let redirects = 0; ; redirects += 1) {
    const where = redirects === 0 ? `reference ${context.display}` : `reference ${context.display} (redirect ${redirects} to ${displayUrl(target)})`;
    const response = await openHop(target, where, context);
    const status = response.statusCode ?? 0;
    if (REDIRECT_STATUSES.has(status)) {
      response.destroy();
      if (redirects >= limits.maxRedirects) {
        throw failure(`reference ${context.display} redirected more than ${limits.maxRedirects} times (references.maxRedirects)`, 'too-many-redirects');
      }
      const location = response.headers.location;
      if (location === undefined || location === '') {
        throw failure(`${where} answered HTTP ${status} without a Location header`, 'http-status', { status });
      }
      target = checkedLocation(location, target, context);
      continue;
    }
    if (status === 404 || status === 410) {
      response.destroy();
      throw failure(`${where} was not found (HTTP ${status})`, 'not-found', { status });
    }
    if (status < 200 || status > 299) {
      const retryAfterMs = parseRetryAfterHeader(headerText(response.headers['retry-after']));
      response.destroy();
      throw failure(`${where} answered HTTP ${status}`, 'http-status', { status, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) });
    }
    const declared = Number(response.headers['content-length']);
    if (Number.isFinite(declared) && declared > limits.maxBytes) {
      response.destroy();
      throw failure(`${where} declares ${declared} bytes, more than ${limits.maxBytes} (references.maxBytes)`, 'too-large');
    }
    const bytes = await readBody(response, where, context);
    return { bytes, finalUrl: target.href, contentType: response.headers['content-type'], redirects };
  }
}

/** Parses the first location or a redirect's Location and refuses what may never be fetched. */
function checkedLocation(text: string, base: URL | undefined, context: FetchContext): URL {
  const namedAs = (shown: string): string =>
    base === undefined ? `reference ${context.display}` : `reference ${context.display} redirects to ${shown}, which`;
  let target: URL;
  try {
    target = base === undefined ? new URL(text) : new URL(text, base);
  } catch {
    throw failure(`${namedAs(displayUrl(text))} is not a valid URL`, 'bad-location');
  }
  const named = namedAs(displayUrl(target));
  if (target.search.length > 1) context.secrets.push(...querySecrets(target.search.slice(1)));
  if (target.protocol !== 'http:' && target.protocol !== 'https:') {
    throw failure(`${named} is not an http:// or https:// location (${target.protocol.slice(0, 20)})`, 'bad-location');
  }
  if (target.username !== '' || target.password !== '') {
    // A credential in a catalog is a leak, and `http://trusted@evil/` a classic way to mislead a reader.
    throw failure(`${named} carries a user name or password, which reference URLs may not`, 'bad-location');
  }
  return target;
}

/** Sends the GET for one hop and resolves with the response head; the body is left unread. */
function openHop(target: URL, where: string, context: FetchContext): Promise<IncomingMessage> {
  // WHATWG keeps IPv6 literals bracketed in `hostname`; node:net wants them bare.
  const host = target.hostname.startsWith('[') ? target.hostname.slice(1, -1) : target.hostname;
  if (isIP(host) !== 0) {
    // node:net connects to IP literals without calling `lookup`, so they are checked here.
    const refusal = refusalOf(host, host, context.policy);
    if (refusal !== undefined) throw blocked(`${where} names ${host} (${refusal})`);
  }
  const secure = target.protocol === 'https:';
  return new Promise<IncomingMessage>((resolve, reject) => {
    let refused: BunchError | undefined;
    let connectTimer: NodeJS.Timeout | undefined;
    const stopConnectTimer = (): void => clearTimeout(connectTimer);
    const lookup: LookupFunction = (hostname, lookupOptions, callback) => {
      guardedLookup(hostname, lookupOptions, context.policy, (detail) => blocked(`${where} ${detail}`), (error, addresses) => {
        if (error instanceof BunchError) refused = error;
        if (error !== null || addresses === undefined) return callback(error, '');
        const first = addresses[0] as LookupAddress;
        if (lookupOptions.all === true) callback(null, addresses);
        else callback(null, first.address, first.family);
      });
    };
    const request = (secure ? httpsRequest : httpRequest)({
      protocol: target.protocol,
      hostname: host,
      port: target.port === '' ? undefined : Number(target.port),
      path: `${target.pathname}${target.search}`,
      method: 'GET',
      headers: { accept: 'image/*, */*;q=0.8', 'accept-encoding': 'identity', 'user-agent': context.userAgent },
      agent: false,
      lookup,
    });
    const onAbort = (): void => void request.destroy(context.signal.reason as Error);
    const settle = (): void => {
      stopConnectTimer();
      context.signal.removeEventListener('abort', onAbort);
    };
    if (context.signal.aborted) onAbort();
    else context.signal.addEventListener('abort', onAbort, { once: true });
    request.once('socket', (socket: Socket) => {
      if (!secure && !socket.connecting) return;
      connectTimer = setTimeout(() => {
        request.destroy(failure(`${where}: connecting took longer than ${context.limits.connectTimeoutMs} ms (references.connectTimeout)`, 'timeout'));
      }, context.limits.connectTimeoutMs);
      socket.once(secure ? 'secureConnect' : 'connect', stopConnectTimer);
    });
    request.once('response', (response) => {
      settle();
      // Redirects and error statuses are destroyed unread; a late socket error must not go unhandled.
      response.on('error', () => undefined);
      resolve(response);
    });
    // `on`, not `once`: a second error after the first must not crash the process.
    request.on('error', (error) => {
      settle();
      if (refused !== undefined) return reject(refused);
      if (error instanceof BunchError) return reject(error);
      reject(networkFailure(error, where, context.secrets));
    });
    request.end();
  });
}

/**
 * Resolves `hostname` once, with every address, and refuses when any of them is blocked: a name
 * with one public and one private address could otherwise be steered to the private one.
 */
/** Reads the body, refusing (and closing the socket) the moment it passes `maxBytes`. */
function readBody(response: IncomingMessage, where: string, context: FetchContext): Promise<Buffer> {
  const { maxBytes } = context.limits;
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    let settled = false;
    const finish = (error: Error | undefined, body?: Buffer): void => {
      if (settled) return;
      settled = true;
      context.signal.removeEventListener('abort', onAbort);
      if (error === undefined) resolve(body ?? Buffer.alloc(0));
      else {
        response.destroy();
        reject(error);
      }
    };
    const onAbort = (): void => finish(context.signal.reason as Error);
    if (context.signal.aborted) return onAbort();
    context.signal.addEventListener('abort', onAbort, { once: true });
    response.on('data', (chunk: Buffer) => {
      if (settled) return;
      total += chunk.length;
      if (total > maxBytes) return finish(failure(`${where} is larger than ${maxBytes} bytes (references.maxBytes)`, 'too-large'));
      chunks.push(chunk);
    });
    response.once('end', () => finish(undefined, Buffer.concat(chunks, total)));
    response.on('error', (error) => finish(networkFailure(error, where, context.secrets)));
    response.once('close', () => {
      if (!response.complete) finish(networkFailure(new Error('connection closed before the body was complete'), where, context.secrets));
    });
  });
}

/** The query as sent and as decoded: either form may turn up in an error text. */
function querySecrets(query: string): string[] {
  try {
    const decoded = decodeURIComponent(query);
    return decoded === query ? [query] : [query, decoded];
  } catch {
    return [query];
  }
}

function headerText(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function failure(message: string, reason: ReferenceFailureReason, extra: { status?: number; retryAfterMs?: number; cause?: unknown } = {}): BunchError {
  return new BunchError('E_REFERENCE', message, { reason, ...extra });
}

function blocked(detail: string): BunchError {
  return failure(`${detail}; refused by the address guard (allow it with references.allowHosts)`, 'blocked-address');
}

/**
 * A socket, DNS or TLS failure as an E_REFERENCE `network` error. The original error is replaced
 * by a copy whose message has every query string of this fetch redacted: `cause` ends up in logs.
 */
function networkFailure(error: unknown, where: string, secrets: readonly string[]): BunchError {
  const original = error instanceof Error ? error : new Error(String(error));
  const code = (original as NodeJS.ErrnoException).code;
  const text = redactSecrets(original.message, secrets);
  const cause = Object.assign(new Error(text), code === undefined ? {} : { code });
  cause.name = original.name;
  const detail = code !== undefined && !text.includes(code) ? `${code} ${text}` : text;
  return failure(`${where}: ${detail}`, 'network', { cause });
}
