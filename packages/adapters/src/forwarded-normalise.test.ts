import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { normaliseForwarded } from './forwarded.js';

const trust = (address: string | undefined) => address === undefined || address === '127.0.0.1';

function req(remoteAddress: string | undefined, headers: Record<string, string>): IncomingMessage {
  return { socket: { remoteAddress }, headers: { ...headers }, rawHeaders: Object.entries(headers).flat() } as unknown as IncomingMessage;
}

describe('normaliseForwarded', () => {
  const forwarded = { host: 'h', 'x-forwarded-for': '198.51.100.1, 203.0.113.7', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'example.com', 'x-real-ip': '1.2.3.4' };

  it('strips X-Forwarded-* and the app ip header from an untrusted peer', () => {
    const r = req('192.0.2.9', forwarded);
    normaliseForwarded(r, trust, 'x-real-ip');
    expect(r.headers).toEqual({ host: 'h' });
    expect(r.rawHeaders, 'the raw list fetch bridges read').toEqual(['host', 'h']);
  });

  it('keeps them from a trusted peer, cutting X-Forwarded-For to its believable part', () => {
    const r = req('127.0.0.1', forwarded);
    normaliseForwarded(r, trust, 'x-forwarded-for');
    expect(r.headers['x-forwarded-for']).toBe('203.0.113.7');
    expect(r.headers['x-forwarded-proto']).toBe('https');
    expect(r.rawHeaders.slice(2, 4)).toEqual(['x-forwarded-for', '203.0.113.7']);
    const unix = req(undefined, { 'x-forwarded-for': '203.0.113.7, 127.0.0.1' });
    normaliseForwarded(unix, trust, 'x-forwarded-for');
    expect(unix.headers['x-forwarded-for']).toBe('203.0.113.7, 127.0.0.1');
  });
});
