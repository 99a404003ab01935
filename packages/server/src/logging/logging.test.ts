import type { IncomingMessage, ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { DEFAULT_ACCESS_LOG_FORMAT } from '../settings/definitions.js';
import { accessTimestamp, formatAccessLine, type AccessRecord } from './access-log.js';
import { ErrorLog, formatErrorLine } from './error-log.js';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function record(overrides: Partial<AccessRecord> = {}): AccessRecord {
  const req = {
    method: 'POST',
    url: '/orders?id=7',
    httpVersion: '1.1',
    headers: { referer: 'https://shop.example/', 'user-agent': 'curl/8', 'x-request-id': 'abc' },
    socket: { remoteAddress: '10.0.0.5' },
  } as unknown as IncomingMessage;
  const res = { statusCode: 201, getHeader: (name: string) => ({ 'content-type': 'application/json' })[name] } as unknown as ServerResponse;
  return { req, res, start: new Date(2026, 10, 25, 7, 44, 46), durationNs: 1_234_567n, bytesSent: 42, pid: 77, env: { REGION: 'eu' }, ...overrides };
}

describe('formatAccessLine', () => {
  it("renders Gunicorn's default format", () => {
    const line = formatAccessLine(DEFAULT_ACCESS_LOG_FORMAT, record());
    expect(line).toBe(`10.0.0.5 - - ${accessTimestamp(new Date(2026, 10, 25, 7, 44, 46))} "POST /orders?id=7 HTTP/1.1" 201 42 "https://shop.example/" "curl/8"`);
  });
  it('renders every atom', () => {
    const line = formatAccessLine('%(m)s|%(U)s|%(q)s|%(H)s|%(s)s|%(B)s|%(b)s|%(T)s|%(M)s|%(D)s|%(L)s|%(p)s|%({x-request-id}i)s|%({content-type}o)s|%({REGION}e)s|%({missing}i)s', record());
    expect(line).toBe('POST|/orders|id=7|HTTP/1.1|201|42|42|0|1|1234|0.001234|<77>|abc|application/json|eu|-');
  });
  it("writes '-' for zero bytes in %(b)s but 0 in %(B)s", () => {
    expect(formatAccessLine('%(b)s %(B)s', record({ bytesSent: 0 }))).toBe('- 0');
  });
  it('renders JSON lines', () => {
    const parsed = JSON.parse(formatAccessLine('json', record())) as Record<string, unknown>;
    expect(parsed).toMatchObject({ remote: '10.0.0.5', method: 'POST', path: '/orders', query: 'id=7', status: 201, bytes: 42, pid: 77, user_agent: 'curl/8' });
  });
  it('leaves unknown atoms visible rather than dropping them', () => {
    expect(formatAccessLine('%(zz)s', record())).toBe('%(zz)s');
  });
});

describe('formatErrorLine', () => {
  it("is Gunicorn's [time] [pid] [LEVEL] message", () => {
    expect(formatErrorLine(new Date(2026, 10, 25, 7, 44, 46), 12, 'warning', 'hi')).toMatch(/^\[2026-11-25 07:44:46 [+-]\d{4}\] \[12\] \[WARNING\] hi\n$/);
  });
});

describe('ErrorLog counting for statsd', () => {
  it("counts warning, error, critical and exception lines whatever the level, as Gunicorn's statsd logger; exception is written as ERROR", () => {
    const dir = mkdtempSync(join(tmpdir(), 'ndc-'));
    try {
      const log = new ErrorLog(join(dir, 'error.log'), 'critical', 7);
      const counted: string[] = [];
      log.onCounted = (level) => counted.push(level);
      log.info('not counted');
      log.warning('w');
      log.error('e');
      log.critical('c');
      log.exception('handler threw');
      expect(counted).toEqual(['warning', 'error', 'critical', 'exception']);
      log.close();
      expect(readFileSync(join(dir, 'error.log'), 'utf8').trim().split('\n').map((l) => l.replace(/^\[[^\]]+\] /, ''))).toEqual(['[7] [CRITICAL] c']);
      const verbose = new ErrorLog(join(dir, 'all.log'), 'info', 7);
      verbose.exception('handler threw');
      verbose.close();
      expect(readFileSync(join(dir, 'all.log'), 'utf8')).toMatch(/\[7\] \[ERROR\] handler threw\n$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
