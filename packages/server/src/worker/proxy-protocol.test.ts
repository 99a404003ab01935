import { describe, expect, it } from 'vitest';
import { parseProxyHeader } from './proxy-protocol.js';

/** A v2 header as HAProxy sends it (PROXY command, TCP over IPv4 or IPv6). */
function v2(family: 'ipv4' | 'ipv6', source: number[], sourcePort: number, command = 0x21): Buffer {
  const addressBytes = family === 'ipv4' ? 12 : 36;
  const body = Buffer.alloc(addressBytes);
  Buffer.from(source).copy(body, 0);
  body.writeUInt16BE(sourcePort, family === 'ipv4' ? 8 : 32);
  body.writeUInt16BE(443, family === 'ipv4' ? 10 : 34);
  const head = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a, command, family === 'ipv4' ? 0x11 : 0x21, 0, 0]);
  head.writeUInt16BE(addressBytes, 14);
  return Buffer.concat([head, body]);
}

describe('PROXY protocol header (HAProxy spec v1 and v2)', () => {
  it('v1: the client address and port, and where the HTTP request begins', () => {
    const data = Buffer.from('PROXY TCP4 203.0.113.7 10.0.0.1 51234 80\r\nGET / HTTP/1.1\r\n');
    expect(parseProxyHeader(data)).toEqual({ peer: { address: '203.0.113.7', port: 51234 }, length: 42 });
    expect(parseProxyHeader(Buffer.from('PROXY TCP6 2001:db8::1 2001:db8::2 1 2\r\n'))).toMatchObject({ peer: { address: '2001:db8::1', port: 1 } });
    expect(parseProxyHeader(Buffer.from('PROXY UNKNOWN\r\n'))).toEqual({ peer: {}, length: 15 });
  });

  it('v2: PROXY and LOCAL commands, IPv4 and IPv6', () => {
    expect(parseProxyHeader(v2('ipv4', [198, 51, 100, 9], 40000))).toEqual({ peer: { address: '198.51.100.9', port: 40000 }, length: 28 });
    const six = parseProxyHeader(v2('ipv6', [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5], 7));
    expect(six).toEqual({ peer: { address: '2001:db8::5', port: 7 }, length: 52 });
    expect(parseProxyHeader(v2('ipv4', [1, 2, 3, 4], 5, 0x20))).toEqual({ peer: {}, length: 28 }); // LOCAL: a health check
  });

  it('waits for the rest of a header split across reads', () => {
    expect(parseProxyHeader(Buffer.from('PRO'))).toBe('incomplete');
    expect(parseProxyHeader(Buffer.from('PROXY TCP4 1.2.3.4'))).toBe('incomplete');
    expect(parseProxyHeader(v2('ipv4', [1, 2, 3, 4], 5).subarray(0, 20))).toBe('incomplete');
  });

  it('refuses what is not a header, or is a malformed one', () => {
    for (const text of ['GET / HTTP/1.1\r\n', 'PROXY TCP4 1.2.3.4 5.6.7.8 80\r\n', 'PROXY TCP4 not-an-ip 5.6.7.8 1 2\r\n', 'PROXY SCTP 1.2.3.4 5.6.7.8 1 2\r\n', `PROXY TCP4 ${'1'.repeat(120)}`]) {
      expect(parseProxyHeader(Buffer.from(text)), text).toHaveProperty('error');
    }
    const badVersion = v2('ipv4', [1, 2, 3, 4], 5, 0x11);
    expect(parseProxyHeader(badVersion)).toHaveProperty('error');
  });
});
