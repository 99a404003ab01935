import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { checkRequest, type RequestLimits } from './request-limits.js';

const limits: RequestLimits = {
  limitRequestLine: 100,
  limitRequestFields: 3,
  limitRequestFieldSize: 50,
  secureSchemeHeaders: { 'X-FORWARDED-PROTO': 'https', 'X-FORWARDED-SSL': 'on' },
};

function req(over: { url?: string; raw?: string[]; version?: string } = {}): IncomingMessage {
  const raw = over.raw ?? ['Host', 'x'];
  const headers: Record<string, string> = {};
  for (let i = 0; i < raw.length; i += 2) headers[raw[i]!.toLowerCase()] = raw[i + 1]!;
  return { method: 'GET', url: over.url ?? '/', httpVersion: over.version ?? '1.1', rawHeaders: raw, headers } as unknown as IncomingMessage;
}

describe('checkRequest', () => {
  it('passes an ordinary request', () => {
    expect(checkRequest(req(), limits, () => true)).toBeNull();
  });
  it('answers 400 for targets that are not origin-form, except OPTIONS *', () => {
    expect(checkRequest(req({ url: 'http://evil.example/' }), limits, () => false)?.status).toBe(400);
    expect(checkRequest(req({ url: '*' }), limits, () => false)?.status).toBe(400);
    expect(checkRequest({ ...req({ url: '*' }), method: 'OPTIONS' } as IncomingMessage, limits, () => false)).toBeNull();
  });
  it('answers 414 for a long request line', () => {
    expect(checkRequest(req({ url: '/' + 'a'.repeat(100) }), limits, () => false)?.status).toBe(414);
  });
  it('answers 431 for too many or too large fields', () => {
    expect(checkRequest(req({ raw: ['A', '1', 'B', '2', 'C', '3', 'D', '4'] }), limits, () => false)?.status).toBe(431);
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
