import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { clientResponseHeaders, upstreamRequestHeaders } from './headers.js';

function fakeRequest(raw: string[], remoteAddress = '::ffff:10.0.0.5'): IncomingMessage {
  const headers: Record<string, string> = {};
  for (let i = 0; i < raw.length; i += 2) headers[raw[i]!.toLowerCase()] = raw[i + 1]!;
  return { rawHeaders: raw, headers, socket: { remoteAddress } } as unknown as IncomingMessage;
}

const asObject = (flat: string[]) => Object.fromEntries(flat.flatMap((_, i) => (i % 2 ? [] : [[flat[i]!.toLowerCase(), flat[i + 1]!]])));

describe('upstreamRequestHeaders', () => {
  const facts = { proto: 'https' as const, trusted: (a: string) => a.startsWith('10.'), defaultHost: 'app.test' };

  it('overwrites forwarding headers from an untrusted peer', () => {
    const out = asObject(upstreamRequestHeaders(fakeRequest(['Host', 'h', 'X-Forwarded-For', '1.1.1.1', 'X-Real-IP', '1.1.1.1', 'Forwarded', 'for=1.1.1.1'], '192.0.2.1'), facts));
    expect(out).toMatchObject({ host: 'h', 'x-forwarded-for': '192.0.2.1', 'x-real-ip': '192.0.2.1', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'h' });
    expect(out).not.toHaveProperty('forwarded');
  });

  it('maps HTTP/2 pseudo-headers: :authority becomes Host, the rest never go upstream, cookies are joined', () => {
    const req = fakeRequest([':method', 'GET', ':path', '/a', ':scheme', 'https', ':authority', 'app.test:8443', 'cookie', 'a=1', 'accept', '*/*', 'cookie', 'b=2']);
    const out = upstreamRequestHeaders(req, facts);
    expect(out.slice(0, 2)).toEqual(['host', 'app.test:8443']);
    expect(out.filter((_, i) => i % 2 === 0 && out[i]!.startsWith(':'))).toEqual([]);
    expect(asObject(out)).toMatchObject({ cookie: 'a=1; b=2', accept: '*/*', 'x-forwarded-host': 'app.test:8443', 'x-forwarded-proto': 'https' });
    expect(out.filter((n) => n === 'cookie')).toHaveLength(1);
  });

  it('appends a trusted peer to the chain, joining repeated fields', () => {
    const out = asObject(upstreamRequestHeaders(fakeRequest(['X-Forwarded-For', '1.1.1.1', 'X-Forwarded-For', '2.2.2.2']), facts));
    expect(out['x-forwarded-for']).toBe('1.1.1.1, 2.2.2.2, 10.0.0.5');
  });

  it('drops hop-by-hop fields, fields named by Connection, underscores, Expect and Content-Length', () => {
    const raw = ['Connection', 'keep-alive, X-Private', 'X-Private', '1', 'Keep-Alive', '5', 'TE', 'trailers', 'Transfer-Encoding', 'chunked', 'Upgrade', 'h2c', 'Proxy-Connection', 'x', 'X_Underscore', '1', 'Expect', '100-continue', 'Content-Length', '5', 'Accept', '*/*'];
    const out = asObject(upstreamRequestHeaders(fakeRequest(raw), facts));
    expect(Object.keys(out).sort()).toEqual(['accept', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'x-real-ip']);
    expect(out['x-forwarded-host']).toBe('app.test');
  });
});

describe('clientResponseHeaders', () => {
  const buf = (xs: string[]) => xs.map((x) => Buffer.from(x, 'latin1'));

  it('strips hop-by-hop fields and X-Accel-Buffering, reporting it', () => {
    const r = clientResponseHeaders(buf(['Connection', 'close, X-Internal', 'X-Internal', '1', 'Keep-Alive', 'timeout=5', 'Transfer-Encoding', 'chunked', 'X-Accel-Buffering', 'no', 'Set-Cookie', 'a=1', 'Set-Cookie', 'b=2']));
    expect(r.headers).toEqual(['Set-Cookie', 'a=1', 'Set-Cookie', 'b=2']);
    expect(r.accelBuffering).toBe(false);
    expect(r.stream).toBe(false);
  });

  it('streams text/event-stream', () => {
    expect(clientResponseHeaders(buf(['Content-Type', 'text/event-stream; charset=utf-8'])).stream).toBe(true);
  });
});
