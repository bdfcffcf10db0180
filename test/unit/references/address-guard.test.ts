import { describe, expect, it } from 'vitest';
import { blockedAddressReason, isAllowedByPolicy } from '../../../src/references/address-guard.js';
import type { AddressPolicy } from '../../../src/references/reference-fetch-options.js';

describe('blockedAddressReason', () => {
  it.each([
    // IPv4, every range of ops-and-safety.md
    ['0.0.0.0', 'unspecified'],
    ['0.255.1.2', 'unspecified'],
    ['10.0.0.5', 'private (RFC 1918)'],
    ['10.255.255.255', 'private (RFC 1918)'],
    ['100.64.0.1', 'carrier-grade NAT'],
    ['100.127.255.254', 'carrier-grade NAT'],
    ['127.0.0.1', 'loopback'],
    ['127.0.0.2', 'loopback'],
    ['169.254.169.254', 'link-local (cloud metadata)'],
    ['172.16.0.1', 'private (RFC 1918)'],
    ['172.31.255.255', 'private (RFC 1918)'],
    ['192.168.1.1', 'private (RFC 1918)'],
    ['192.0.0.8', 'reserved'],
    ['198.18.0.1', 'reserved'],
    ['198.19.255.255', 'reserved'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['240.0.0.1', 'reserved'],
    ['255.255.255.254', 'reserved'],
    ['255.255.255.255', 'broadcast'],
    // IPv6
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['[::1]', 'loopback'],
    ['fc00::1', 'unique-local'],
    ['fd12:3456::1', 'unique-local'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['febf::1', 'link-local'],
    ['ff02::1', 'multicast'],
    ['fec0::1', 'site-local'],
    ['2001:db8::1', 'documentation'],
    // IPv4 inside IPv6, judged by the IPv4 address
    ['::ffff:127.0.0.1', 'loopback, IPv4-mapped 127.0.0.1'],
    ['::ffff:7f00:1', 'loopback, IPv4-mapped 127.0.0.1'],
    ['::ffff:a9fe:a9fe', 'link-local (cloud metadata), IPv4-mapped 169.254.169.254'],
    ['::7f00:1', 'loopback, IPv4-compatible 127.0.0.1'],
    ['::808:808', 'reserved (IPv4-compatible)'],
    ['::ffff:0:a00:1', 'private (RFC 1918), IPv4-translated 10.0.0.1'],
    ['64:ff9b::a00:5', 'private (RFC 1918), NAT64 10.0.0.5'],
    ['64:ff9b::7f00:1', 'loopback, NAT64 127.0.0.1'],
    ['64:ff9b:1::1', 'local-use NAT64'],
    ['2002:c0a8:0101::1', 'private (RFC 1918), 6to4 192.168.1.1'],
    ['2002:7f00:0001::1', 'loopback, 6to4 127.0.0.1'],
    ['2001::1', 'Teredo tunnel'],
    ['100::1', 'discard-only'],
    ['4000::1', 'reserved (outside 2000::/3)'],
    // Fails closed on anything that is not an address
    ['localhost', 'not an IP address'],
    ['', 'not an IP address'],
  ])('refuses %s (%s)', (address, reason) => {
    expect(blockedAddressReason(address)).toBe(reason);
  });

  it.each(['8.8.8.8', '1.1.1.1', '93.184.215.14', '100.63.255.255', '100.128.0.0', '172.15.255.255', '172.32.0.0', '11.0.0.1', '223.255.255.254', '2606:4700::1111', '2a00:1450:4001:81a::200e', '::ffff:8.8.8.8', '64:ff9b::808:808', '2002:0808:0808::1'])(
    'allows the public address %s',
    (address) => {
      expect(blockedAddressReason(address)).toBeUndefined();
    },
  );

  it('reads the odd IPv4 spellings the way WHATWG URL does, as loopback', () => {
    expect(blockedAddressReason('2130706433')).toBe('loopback');
    expect(blockedAddressReason(new URL('http://0x7f.1/').hostname)).toBe('loopback');
    expect(blockedAddressReason(new URL('http://017700000001/').hostname)).toBe('loopback');
  });
});

describe('isAllowedByPolicy', () => {
  const policy = (allowHosts: string[], allowPrivate = false): AddressPolicy => ({ allowHosts, allowPrivate });

  it('allows nothing private by default', () => {
    expect(isAllowedByPolicy('internal.example', '10.0.0.5', policy([]))).toBe(false);
  });

  it('allowPrivate allows every address', () => {
    expect(isAllowedByPolicy('anything', '127.0.0.1', policy([], true))).toBe(true);
    expect(isAllowedByPolicy('anything', '::1', policy([], true))).toBe(true);
  });

  it('matches host names exactly and case-insensitively, a trailing dot ignored on either side', () => {
    const named = policy(['Images.Internal.Example']);
    expect(isAllowedByPolicy('images.internal.example', '10.0.0.5', named)).toBe(true);
    expect(isAllowedByPolicy('IMAGES.internal.example.', '10.0.0.5', named)).toBe(true);
    expect(isAllowedByPolicy('images.internal.example', '10.0.0.5', policy(['images.internal.example.']))).toBe(true);
    expect(isAllowedByPolicy('cdn.images.internal.example', '10.0.0.5', named)).toBe(false);
    expect(isAllowedByPolicy('images.internal.example.evil.test', '10.0.0.5', named)).toBe(false);
    expect(isAllowedByPolicy('internal.example', '10.0.0.5', named)).toBe(false);
  });

  it('a host name entry allows any address that name leads to, and only that name', () => {
    const local = policy(['localhost']);
    expect(isAllowedByPolicy('localhost', '127.0.0.1', local)).toBe(true);
    expect(isAllowedByPolicy('localhost', '::1', local)).toBe(true);
    expect(isAllowedByPolicy('127.0.0.2', '127.0.0.2', local)).toBe(false);
  });

  it('matches IP entries against the address, whatever the host name', () => {
    const single = policy(['10.0.0.5']);
    expect(isAllowedByPolicy('internal.example', '10.0.0.5', single)).toBe(true);
    expect(isAllowedByPolicy('internal.example', '10.0.0.6', single)).toBe(false);
    expect(isAllowedByPolicy('x', '::ffff:10.0.0.5', single)).toBe(true);
    expect(isAllowedByPolicy('x', '::1', policy(['[::1]']))).toBe(true);
    expect(isAllowedByPolicy('x', '::1', policy(['::1']))).toBe(true);
    expect(isAllowedByPolicy('x', '::2', policy(['::1']))).toBe(false);
  });

  it('matches CIDR entries against the address', () => {
    const range = policy(['10.1.0.0/16', 'fd00:1::/32']);
    expect(isAllowedByPolicy('a', '10.1.200.3', range)).toBe(true);
    expect(isAllowedByPolicy('a', '10.2.0.1', range)).toBe(false);
    expect(isAllowedByPolicy('a', '::ffff:10.1.0.9', range)).toBe(true);
    expect(isAllowedByPolicy('a', 'fd00:1:2::3', range)).toBe(true);
    expect(isAllowedByPolicy('a', 'fd00:2::3', range)).toBe(false);
    expect(isAllowedByPolicy('a', '127.0.0.1', policy(['127.0.0.0/8']))).toBe(true);
  });

  it('ignores entries it cannot read instead of allowing everything', () => {
    expect(isAllowedByPolicy('a', '10.0.0.1', policy(['10.0.0.0/99', 'not a host/8', '']))).toBe(false);
  });
});
