/**
 * The SSRF guard's address check: which resolved addresses a reference fetch may connect to.
 * It is an allow-list at heart: an IPv4 address must be ordinary unicast, an IPv6 address must
 * be ordinary unicast inside 2000::/3 (all public IPv6 space); everything else is refused with a
 * short reason that ends up in the operator's error message. IPv6 forms that carry an IPv4
 * address (mapped, compatible, translated, NAT64, 6to4) are judged by the IPv4 inside, because a
 * dual-stack socket or a NAT64 gateway delivers them there.
 */
import { domainToASCII } from 'node:url';
import ipaddr from 'ipaddr.js';
import type { AddressPolicy } from './reference-fetch-options.js';

type IPv4 = ipaddr.IPv4;
type IPv6 = ipaddr.IPv6;
type Address = IPv4 | IPv6;

/** ipaddr.js range names (`IPv4#range()`) that are refused, and how the refusal reads. */
const IPV4_REFUSED: Readonly<Record<string, string>> = {
  unspecified: 'unspecified',
  broadcast: 'broadcast',
  multicast: 'multicast',
  linkLocal: 'link-local (cloud metadata)',
  loopback: 'loopback',
  carrierGradeNat: 'carrier-grade NAT',
  private: 'private (RFC 1918)',
  // 192.0.0.0/24, 198.18.0.0/15, 240.0.0.0/4, TEST-NETs, the 6to4 relay anycast.
  reserved: 'reserved',
};

/** IPv6 ranges refused whatever they contain (`IPv6#range()` names). */
const IPV6_REFUSED: Readonly<Record<string, string>> = {
  unspecified: 'unspecified',
  loopback: 'loopback',
  linkLocal: 'link-local',
  multicast: 'multicast',
  uniqueLocal: 'unique-local',
  deprecatedSiteLocal: 'site-local',
  discard: 'discard-only',
  // Teredo hides the client's IPv4 address (XOR-ed); nobody serves catalog photos over it.
  teredo: 'Teredo tunnel',
  benchmarking: 'reserved (benchmarking)',
  deprecatedOrchid: 'reserved (ORCHID)',
  orchid2: 'reserved (ORCHID)',
  droneRemoteIdProtocolEntityTags: 'reserved',
  segmentRouting: 'reserved (segment routing)',
};

const DOCUMENTATION_V6 = ipaddr.IPv6.parseCIDR('2001:db8::/32');
const LOCAL_NAT64 = ipaddr.IPv6.parseCIDR('64:ff9b:1::/48');
const GLOBAL_UNICAST_V6 = ipaddr.IPv6.parseCIDR('2000::/3');

/**
 * Why a connection to `address` is refused ("loopback", "private (RFC 1918)", …), or undefined
 * when it is a public address. Text that is not an IP address is refused too: the guard fails
 * closed.
 */
export function blockedAddressReason(address: string): string | undefined {
  const parsed = parseAddress(address);
  if (parsed === undefined) return 'not an IP address';
  return parsed.kind() === 'ipv4' ? ipv4Reason(parsed as IPv4) : ipv6Reason(parsed as IPv6);
}

/**
 * Whether the operator's policy allows connecting to `address` for a request to `host` (see
 * AddressPolicy): every address under `allowPrivate`; otherwise an `allowHosts` entry that names
 * the host (exact, case-insensitive, trailing dot ignored), or that is an IP address or CIDR range
 * containing the address.
 */
export function isAllowedByPolicy(host: string, address: string, policy: AddressPolicy): boolean {
  if (policy.allowPrivate) return true;
  const name = normalizeHostName(host);
  const parsed = parseAddress(address);
  return policy.allowHosts.some((entry) => entryMatches(entry.trim(), name, parsed));
}

function ipv4Reason(address: IPv4): string | undefined {
  return IPV4_REFUSED[address.range()];
}

function ipv6Reason(address: IPv6): string | undefined {
  const range: string = address.range();
  const named = IPV6_REFUSED[range];
  if (named !== undefined) return named;
  const parts = address.parts;
  switch (range) {
    case 'ipv4Mapped':
      return embedded(lowIPv4(parts), 'IPv4-mapped');
    case 'rfc6145':
      return embedded(lowIPv4(parts), 'IPv4-translated');
    case 'rfc6052':
      if (address.match(LOCAL_NAT64)) return 'local-use NAT64';
      return embedded(lowIPv4(parts), 'NAT64');
    case '6to4':
      return embedded(ipv4Of(parts[1], parts[2]), '6to4');
    case 'reserved':
      return address.match(DOCUMENTATION_V6) ? 'documentation' : 'reserved';
    default:
      break;
  }
  // ::a.b.c.d (IPv4-compatible, deprecated): :: and ::1 were named above.
  if (parts.slice(0, 6).every((part) => part === 0)) return embedded(lowIPv4(parts), 'IPv4-compatible') ?? 'reserved (IPv4-compatible)';
  if (!address.match(GLOBAL_UNICAST_V6)) return 'reserved (outside 2000::/3)';
  return undefined;
}

/** The reason for an IPv4 address carried inside an IPv6 one, or undefined when it is public. */
function embedded(inner: IPv4, form: string): string | undefined {
  const reason = ipv4Reason(inner);
  return reason === undefined ? undefined : `${reason}, ${form} ${inner.toString()}`;
}

function lowIPv4(parts: number[]): IPv4 {
  return ipv4Of(parts[6], parts[7]);
}

function ipv4Of(high: number | undefined, low: number | undefined): IPv4 {
  const h = high ?? 0;
  const l = low ?? 0;
  return new ipaddr.IPv4([h >> 8, h & 0xff, l >> 8, l & 0xff]);
}

function entryMatches(entry: string, name: string, address: Address | undefined): boolean {
  if (entry.includes('/')) {
    let range: [Address, number];
    try {
      range = ipaddr.parseCIDR(entry);
    } catch {
      return false;
    }
    return address !== undefined && inRange(address, range);
  }
  const entryAddress = parseAddress(entry);
  if (entryAddress !== undefined) {
    return address !== undefined && inRange(address, [entryAddress, entryAddress.kind() === 'ipv4' ? 32 : 128]);
  }
  return normalizeHostName(entry) === name;
}

/** CIDR match across families: an IPv4-mapped IPv6 address is the IPv4 address it carries. */
function inRange(address: Address, [base, bits]: [Address, number]): boolean {
  const a = unmapped(address);
  const b = unmapped(base);
  if (a.kind() !== b.kind()) return false;
  return a.match(b, b === base ? bits : Math.max(0, bits - 96));
}

function unmapped(address: Address): Address {
  return address.kind() === 'ipv6' && (address as IPv6).isIPv4MappedAddress() ? (address as IPv6).toIPv4Address() : address;
}

function parseAddress(text: string): Address | undefined {
  const bare = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  try {
    return ipaddr.parse(bare);
  } catch {
    return undefined;
  }
}

/** Lower case, punycode, no brackets, one trailing dot dropped: how URL host names compare. */
function normalizeHostName(host: string): string {
  let name = host.trim().toLowerCase();
  if (name.startsWith('[') && name.endsWith(']')) name = name.slice(1, -1);
  if (name.endsWith('.')) name = name.slice(0, -1);
  return domainToASCII(name) || name;
}
