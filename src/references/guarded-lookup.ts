import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { blockedAddressReason, isAllowedByPolicy } from './address-guard.js';
import type { AddressPolicy } from './reference-fetch-options.js';

/**
 * The SSRF guard's DNS step, shared by every outbound request built from operator or catalog
 * input (reference images, webhooks): resolves the name once, refuses if ANY address is blocked
 * by the policy, and hands the checked addresses to the socket, so the connection goes where the
 * check looked. `refused` turns "resolves to 10.0.0.5 (private)" into the caller's own error.
 */
export function guardedLookup(
  hostname: string,
  options: { family?: number | string | undefined; hints?: number | undefined },
  policy: AddressPolicy,
  refused: (detail: string) => Error,
  callback: (error: NodeJS.ErrnoException | null, addresses?: LookupAddress[]) => void,
): void {
  // `localhost.` and `localhost` are the same name; some resolvers only know the dotless form.
  const name = hostname.endsWith('.') ? hostname.slice(0, -1) : hostname;
  const family = options.family === 'IPv4' ? 4 : options.family === 'IPv6' ? 6 : (options.family ?? 0);
  dnsLookup(name, { all: true, family: family as 0 | 4 | 6, hints: options.hints ?? 0 }, (error, addresses) => {
    if (error !== null) return callback(error);
    if (addresses.length === 0) return callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${name}`), { code: 'ENOTFOUND' }));
    for (const { address } of addresses) {
      const refusal = refusalOf(hostname, address, policy);
      if (refusal !== undefined) return callback(refused(`resolves to ${address} (${refusal})`));
    }
    callback(null, addresses);
  });
}

/** Why `address` may not be connected to for `host` under `policy`, or undefined. */
export function refusalOf(host: string, address: string, policy: AddressPolicy): string | undefined {
  const reason = blockedAddressReason(address);
  return reason === undefined || isAllowedByPolicy(host, address, policy) ? undefined : reason;
}
