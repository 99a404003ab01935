import { describe, expect, it } from 'vitest';
import { formatBind, parseBind, systemdFds } from './bind-spec.js';

describe('parseBind', () => {
  it('parses the four forms', () => {
    expect(parseBind('127.0.0.1:8080')).toEqual({ kind: 'tcp', host: '127.0.0.1', port: 8080 });
    expect(parseBind('[::1]:9000')).toEqual({ kind: 'tcp', host: '::1', port: 9000 });
    expect(parseBind('unix:/run/app.sock')).toEqual({ kind: 'unix', path: '/run/app.sock' });
    expect(parseBind('fd://3')).toEqual({ kind: 'fd', fd: 3 });
  });
  it('defaults the port to 8000 and the host to all interfaces, as Gunicorn', () => {
    expect(parseBind('localhost')).toEqual({ kind: 'tcp', host: 'localhost', port: 8000 });
    expect(parseBind(':9000')).toEqual({ kind: 'tcp', host: '0.0.0.0', port: 9000 });
    expect(parseBind('[::]')).toEqual({ kind: 'tcp', host: '::', port: 8000 });
  });
  it.each([
    ['127.0.0.1:http', /port "http" is not a number/],
    ['127.0.0.1:70000', /above 65535/],
    ['::1:8000', /brackets/],
    ['[::1', /closing/],
    ['[nope]:1', /not an IPv6/],
    ['unix:', /path is empty/],
    ['fd://x', /not a file descriptor/],
    [`unix:/${'x'.repeat(120)}`, /107 bytes/],
  ])('rejects %s with the expected forms', (text, why) => {
    expect(() => parseBind(text)).toThrow(why);
    expect(() => parseBind(text)).toThrow(/Expected HOST:PORT, \[IPV6\]:PORT, unix:PATH or fd:\/\/N/);
  });
});

describe('formatBind', () => {
  it('shows the real port and brackets IPv6', () => {
    expect(formatBind({ kind: 'tcp', host: '::1', port: 0 }, 4321)).toBe('http://[::1]:4321');
    expect(formatBind({ kind: 'unix', path: '/a.sock' })).toBe('unix:/a.sock');
  });
});

describe('systemdFds', () => {
  it('uses LISTEN_FDS only when LISTEN_PID is this process', () => {
    expect(systemdFds({ LISTEN_FDS: '2', LISTEN_PID: '42' }, 42)).toEqual([3, 4]);
    expect(systemdFds({ LISTEN_FDS: '2', LISTEN_PID: '41' }, 42)).toEqual([]);
    expect(systemdFds({}, 42)).toEqual([]);
  });
});
