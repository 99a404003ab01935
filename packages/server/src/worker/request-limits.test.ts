import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { checkRequest, type RequestLimits } from './request-limits.js';

const limits: RequestLimits = {
  limitRequestLine: 100,
  limitRequestFields: 3,
  limitRequestFieldSize: 50,
  secureSchemeHeaders: { 'X-FORWARDED-PROTO': 'https', 'X-FORWARDED-SSL': 'on' },
};

/** A parsed request as Node hands it over; a Host field comes first unless `raw` starts with its own. */
function req(over: { url?: string; raw?: string[]; version?: string } = {}): IncomingMessage {
  const extra = over.raw ?? [];
  const raw = extra[0]?.toLowerCase() === 'host' || over.raw?.length === 0 ? [...extra] : ['Host', 'x', ...extra];
  const headers: Record<string, string> = {};
  for (let i = 0; i < raw.length; i += 2) headers[raw[i]!.toLowerCase()] = raw[i + 1]!;
  const version = over.version ?? '1.1';
  const [major, minor] = version.split('.').map(Number);
  return { method: 'GET', url: over.url ?? '/', httpVersion: version, httpVersionMajor: major, httpVersionMinor: minor, rawHeaders: raw, headers } as unknown as IncomingMessage;
}

describe('checkRequest', () => {
  it('passes an ordinary request', () => {
    expect(checkRequest(req(), limits, () => true)).toBeNull();
  });
  it('takes an http(s) absolute-form target with its authority as Host (RFC 9112 §3.2.2)', () => {
    const absolute = req({ url: 'http://shop.example:8080/cart?x=1' });
    expect(checkRequest(absolute, limits, () => false)).toBeNull();
    expect([absolute.url, absolute.headers.host, absolute.rawHeaders]).toEqual(['/cart?x=1', 'shop.example:8080', ['Host', 'shop.example:8080']]);
  });
  it('answers 505 for versions other than 1.0 and 1.1, 400 for two Hosts or none on 1.1', () => {
    expect(checkRequest(req({ version: '2.0' }), limits, () => false)?.status).toBe(505);
    expect(checkRequest(req({ raw: ['Host', 'a', 'Host', 'b'] }), limits, () => false)?.status).toBe(400);
    expect(checkRequest(req({ raw: [] }), limits, () => false)).toMatchObject({ status: 400, reason: 'no Host header field' });
    expect(checkRequest(req({ raw: [], version: '1.0' }), limits, () => false)).toBeNull();
  });
  it('answers 400 for targets that are neither origin-form nor http(s) absolute-form, except OPTIONS *', () => {
    expect(checkRequest(req({ url: 'ftp://evil.example/' }), limits, () => false)?.status).toBe(400);
    expect(checkRequest(req({ url: 'evil.example:443' }), limits, () => false)?.status).toBe(400);
    expect(checkRequest(req({ url: '*' }), limits, () => false)?.status).toBe(400);
    expect(checkRequest({ ...req({ url: '*' }), method: 'OPTIONS' } as IncomingMessage, limits, () => false)).toBeNull();
  });
  it('answers 414 for a long request line', () => {
    expect(checkRequest(req({ url: '/' + 'a'.repeat(100) }), limits, () => false)?.status).toBe(414);
  });
  it('answers 431 for too many or too large fields', () => {
    expect(checkRequest(req({ raw: ['A', '1', 'B', '2', 'C', '3'] }), limits, () => false)?.status).toBe(431);
    expect(checkRequest(req({ raw: ['A', 'x'.repeat(60)] }), limits, () => false)).toMatchObject({ status: 431, reason: expect.stringContaining('header field A') });
  });
  it('answers 501 for transfer codings other than exactly chunked, 400 for chunked on HTTP/1.0', () => {
    expect(checkRequest(req({ raw: ['Transfer-Encoding', 'gzip, chunked'] }), limits, () => false)?.status).toBe(501);
    expect(checkRequest(req({ raw: ['Transfer-Encoding', 'chunked'] }), limits, () => false)).toBeNull();
    expect(checkRequest(req({ raw: ['Transfer-Encoding', 'chunked'], version: '1.0' }), limits, () => false)?.status).toBe(400);
  });
  it('answers 400 when a trusted peer sends contradictory scheme headers, ignores them from others', () => {
    const conflicting = req({ raw: ['X-Forwarded-Proto', 'https', 'X-Forwarded-Ssl', 'off'] });
    expect(checkRequest(conflicting, limits, () => true)?.status).toBe(400);
    expect(checkRequest(conflicting, limits, () => false)).toBeNull();
    expect(checkRequest(req({ raw: ['X-Forwarded-Proto', 'https', 'X-Forwarded-Ssl', 'on'] }), limits, () => true)).toBeNull();
  });
  it('uses the Gunicorn ceilings when a limit is 0', () => {
    const open = { ...limits, limitRequestLine: 0, limitRequestFields: 0, limitRequestFieldSize: 0 };
    expect(checkRequest(req({ url: '/' + 'a'.repeat(5000) }), open, () => false)).toBeNull();
    expect(checkRequest(req({ url: '/' + 'a'.repeat(9000) }), open, () => false)?.status).toBe(414);
  });
});
