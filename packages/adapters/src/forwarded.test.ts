import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { clientAddress, clientInfoFrom, firstValue, trustedChain } from './forwarded.js';

const trusted = new Set(['127.0.0.1', '10.0.0.2']);
const trust = (address: string | undefined) => address === undefined || trusted.has(address);

function incoming(remoteAddress: string | undefined, headers: Record<string, string>, encrypted = false): IncomingMessage {
  return { socket: { remoteAddress, encrypted }, headers } as unknown as IncomingMessage;
}

describe('firstValue', () => {
  it('takes the first comma-separated value, trimmed', () => {
    expect(firstValue(' https , http')).toBe('https');
    expect(firstValue(['a, b', 'c'])).toBe('a');
    expect(firstValue('')).toBeUndefined();
    expect(firstValue(undefined)).toBeUndefined();
  });
});

describe('trustedChain and clientAddress (proxy-addr rule)', () => {
  it('believes nothing from an untrusted peer', () => {
    expect(trustedChain('192.0.2.9', '1.1.1.1', trust)).toEqual([]);
    expect(clientAddress('192.0.2.9', '1.1.1.1', trust)).toBe('192.0.2.9');
  });

  it('stops at the first untrusted hop from the right, dropping what the client wrote', () => {
    expect(trustedChain('127.0.0.1', 'spoofed, 203.0.113.7, 10.0.0.2', trust)).toEqual(['203.0.113.7', '10.0.0.2']);
    expect(clientAddress('127.0.0.1', 'spoofed, 203.0.113.7, 10.0.0.2', trust)).toBe('203.0.113.7');
  });

  it('takes the leftmost entry when every hop is trusted, and the peer without a header', () => {
    expect(clientAddress('127.0.0.1', '10.0.0.2, 127.0.0.1', trust)).toBe('10.0.0.2');
    expect(clientAddress('127.0.0.1', undefined, trust)).toBe('127.0.0.1');
    expect(clientAddress(undefined, '203.0.113.7', trust)).toBe('203.0.113.7');
  });
});

describe('clientInfoFrom', () => {
  const headers = { host: 'internal:8000', 'x-forwarded-for': '203.0.113.7', 'x-forwarded-proto': 'HTTPS', 'x-forwarded-host': 'example.com' };

  it('honours X-Forwarded-* from a trusted peer', () => {
    expect(clientInfoFrom(incoming('127.0.0.1', headers), trust)).toEqual({ address: '203.0.113.7', scheme: 'https', host: 'example.com' });
  });

  it('ignores them from an untrusted peer, or when no trust decision was given', () => {
    const socketView = { address: '192.0.2.9', scheme: 'http', host: 'internal:8000' };
    expect(clientInfoFrom(incoming('192.0.2.9', headers), trust)).toEqual(socketView);
    expect(clientInfoFrom(incoming('192.0.2.9', headers), undefined)).toEqual(socketView);
  });

  it('reports https for a TLS socket', () => {
    expect(clientInfoFrom(incoming('192.0.2.9', { host: 'h' }, true), trust).scheme).toBe('https');
  });
});
