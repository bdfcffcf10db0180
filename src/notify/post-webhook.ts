/**
 * One POST to a webhook named by a job file, through the SSRF guard reference fetching uses
 * (`references/guarded-lookup.ts`, invariant 9). The contract it speaks:
 *   - An IP-literal host is checked before connecting; a host name is resolved by the guarded
 *     lookup, which refuses if ANY address is blocked and hands the checked addresses to the
 *     socket, so the connection goes where the check looked. A refusal is `WebhookRefused`.
 *   - One connection per request (`agent: false`), no redirects followed (a 3xx is just a status:
 *     a signed body is not re-sent to wherever a receiver points), no cookies.
 *   - `timeoutMs` bounds the whole exchange: lookup, connect, TLS, upload, the answer's headers
 *     and its body (drained unread). Every way the exchange can end settles the promise once.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { guardedLookup, refusalOf } from '../references/guarded-lookup.js';
import type { AddressPolicy } from '../references/reference-fetch-options.js';

/** A webhook address the SSRF guard refused: never retried. */
export class WebhookRefused extends Error {
  override name = 'WebhookRefused';
}

export interface PostWebhookOptions {
  timeoutMs: number;
  policy: AddressPolicy;
}

/** Resolves with the answer's HTTP status; rejects on a refusal, a network error or the timeout. */
export function postWebhook(url: URL, body: string, headers: Record<string, string>, options: PostWebhookOptions): Promise<number> {
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  // node:net connects to IP literals without calling `lookup`, so they are checked here.
  if (isIP(host) !== 0) {
    const refusal = refusalOf(host, host, options.policy);
    if (refusal !== undefined) return Promise.reject(new WebhookRefused(`the webhook address ${host} is ${refusal}, refused by the address guard`));
  }
  const lookup: LookupFunction = (hostname, lookupOptions, callback) => {
    const refused = (detail: string) => new WebhookRefused(`the webhook host ${hostname} ${detail}, refused by the address guard`);
    guardedLookup(hostname, lookupOptions, options.policy, refused, (error, addresses) => {
      if (error !== null || addresses === undefined) return callback(error, '');
      const first = addresses[0]!;
      if (lookupOptions.all === true) callback(null, addresses);
      else callback(null, first.address, first.family);
    });
  };
  return new Promise<number>((resolve, reject) => {
    let settled = false;
    const settle = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      outcome();
    };
    const request = (url.protocol === 'https:' ? httpsRequest : httpRequest)({
      protocol: url.protocol,
      hostname: host,
      port: url.port === '' ? undefined : Number(url.port),
      path: `${url.pathname}${url.search}`,
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), 'user-agent': 'bunch-webhook', ...headers },
      agent: false,
      lookup,
    });
    const timer = setTimeout(() => {
      const error = new Error(`no complete answer within ${options.timeoutMs} ms`);
      settle(() => reject(error));
      request.destroy(error);
    }, options.timeoutMs);
    request.once('response', (response: IncomingMessage) => {
      response.once('end', () => settle(() => resolve(response.statusCode ?? 0)));
      response.once('error', (error) => settle(() => reject(error)));
      response.once('close', () => settle(() => reject(new Error('the webhook closed the connection mid-answer'))));
      response.resume();
    });
    request.once('error', (error) => settle(() => reject(error)));
    request.once('close', () => settle(() => reject(new Error('the webhook closed the connection without an answer'))));
    request.end(body);
  });
}
