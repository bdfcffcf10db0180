import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { isIP } from 'node:net';
import { guardedLookup, refusalOf } from '../references/guarded-lookup.js';
import type { AddressPolicy } from '../references/reference-fetch-options.js';

/** A webhook address the SSRF guard refused: never retried. */
export class WebhookRefused extends Error {}

/**
 * One POST to a webhook through the same address guard as reference fetching (the URL comes
 * from a job file): the name is resolved once, every address checked, the connection made to a
 * checked one; IP literals are checked directly. Resolves with the status; the answer's body is
 * drained unread. `timeoutMs` bounds the whole exchange.
 */
export function postWebhook(url: URL, body: string, headers: Record<string, string>, options: { timeoutMs: number; policy: AddressPolicy }): Promise<number> {
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  if (isIP(host) !== 0) {
    const refusal = refusalOf(host, host, options.policy);
    if (refusal !== undefined) return Promise.reject(new WebhookRefused(`the webhook address ${host} is refused by the address guard (${refusal})`));
  }
  return new Promise<number>((resolve, reject) => {
    const lookup: LookupFunction = (hostname, lookupOptions, callback) => {
      guardedLookup(hostname, lookupOptions, options.policy, (detail) => new WebhookRefused(`the webhook host ${hostname} ${detail}, refused by the address guard`), (error, addresses) => {
        if (error !== null || addresses === undefined) return callback(error, '');
        const first = addresses[0]!;
        if (lookupOptions.all === true) callback(null, addresses);
        else callback(null, first.address, first.family);
      });
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
    const timer = setTimeout(() => request.destroy(new Error(`no answer within ${options.timeoutMs} ms`)), options.timeoutMs);
    request.once('response', (response: IncomingMessage) => {
      response.resume();
      response.once('end', () => {
        clearTimeout(timer);
        resolve(response.statusCode ?? 0);
      });
      response.on('error', () => undefined);
    });
    request.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    request.end(body);
  });
}
