import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { normaliseForKoa } from './koa.js';

const trust = (address: string | undefined) => address === undefined || address === '127.0.0.1';

function req(remoteAddress: string | undefined, headers: Record<string, string>): IncomingMessage {
  return { socket: { remoteAddress }, headers: { ...headers } } as unknown as IncomingMessage;
}

describe('normaliseForKoa', () => {
  const forwarded = { host: 'h', 'x-forwarded-for': '198.51.100.1, 203.0.113.7', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'example.com', 'x-real-ip': '1.2.3.4' };

  it('strips X-Forwarded-* and the app ip header from an untrusted peer', () => {
    const r = req('192.0.2.9', forwarded);
    normaliseForKoa(r, trust, 'x-real-ip');
    expect(r.headers).toEqual({ host: 'h' });
  });

  it('keeps them from a trusted peer, cutting X-Forwarded-For to its believable part', () => {
    const r = req('127.0.0.1', forwarded);
    normaliseForKoa(r, trust, 'x-forwarded-for');
    expect(r.headers['x-forwarded-for']).toBe('203.0.113.7');
    expect(r.headers['x-forwarded-proto']).toBe('https');
    const unix = req(undefined, { 'x-forwarded-for': '203.0.113.7, 127.0.0.1' });
    normaliseForKoa(unix, trust, 'x-forwarded-for');
    expect(unix.headers['x-forwarded-for']).toBe('203.0.113.7, 127.0.0.1');
  });
});
