import { describe, expect, it } from 'vitest';
import { createClientIpResolver, normalizeAddress, parseTrustedProxies } from '../src/index.js';

describe('client IP', () => {
  const resolve = createClientIpResolver(parseTrustedProxies(['10.0.0.0/8', '2001:db8:a::/48']));

  it('uses the socket address of a direct, untrusted client and ignores its X-Forwarded-For', () => {
    expect(resolve('203.0.113.9', '198.51.100.1')).toBe('203.0.113.9');
    expect(resolve('::ffff:203.0.113.9', undefined)).toBe('203.0.113.9');
  });

  it('believes X-Forwarded-For from loopback and from configured proxies', () => {
    expect(resolve('127.0.0.1', '198.51.100.1')).toBe('198.51.100.1');
    expect(resolve('::1', '198.51.100.1')).toBe('198.51.100.1');
    expect(resolve('::ffff:10.1.2.3', '2001:db8::7')).toBe('2001:db8::7');
    expect(resolve('2001:db8:a::5', '198.51.100.1')).toBe('198.51.100.1');
    expect(resolve('127.0.0.1', undefined)).toBe('127.0.0.1');
  });

  it('skips trusted proxies from the right, so a client cannot pick its address through an appending proxy', () => {
    expect(resolve('127.0.0.1', '6.6.6.6, 198.51.100.1, 10.0.0.2')).toBe('198.51.100.1');
    expect(resolve('127.0.0.1', ['6.6.6.6', '198.51.100.1'])).toBe('198.51.100.1');
    expect(resolve('127.0.0.1', '10.0.0.3, 10.0.0.2')).toBe('10.0.0.3');
  });

  it('stops at a malformed hop and keeps the last trustworthy address', () => {
    expect(resolve('127.0.0.1', 'not-an-ip')).toBe('127.0.0.1');
    expect(resolve('127.0.0.1', '198.51.100.1, junk, 10.0.0.2')).toBe('10.0.0.2');
    expect(resolve(undefined, '198.51.100.1')).toBeUndefined();
  });

  it('accepts addresses with ports and brackets as proxies write them', () => {
    expect(normalizeAddress('198.51.100.1:4711')).toBe('198.51.100.1');
    expect(normalizeAddress('[2001:DB8::1]:443')).toBe('2001:db8::1');
    expect(normalizeAddress('::ffff:127.0.0.1')).toBe('127.0.0.1');
    expect(normalizeAddress('example.com')).toBeUndefined();
  });

  it('refuses a proxy list entry that is not an address or CIDR range, naming it', () => {
    expect(() => parseTrustedProxies(['10.0.0.0/8', 'proxy.internal', '10.0.0.0/33'])).toThrow(/proxy\.internal, 10\.0\.0\.0\/33/);
  });
});
