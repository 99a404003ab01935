import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { wrkArgs } from '../src/load.mjs';
import { parseDuration, parseWrk } from '../src/wrk-parse.mjs';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

describe('parseDuration', () => {
  it('reads every unit wrk prints, in milliseconds', () => {
    expect(parseDuration('635.91us')).toBeCloseTo(0.63591);
    expect(parseDuration('13.12ms')).toBe(13.12);
    expect(parseDuration('1.20s')).toBe(1200);
    expect(parseDuration('2.00m')).toBe(120_000);
  });
  it('rejects what is not a duration', () => {
    expect(() => parseDuration('12 apples')).toThrow(/not a wrk duration/);
  });
});

describe('parseWrk', () => {
  it('reads a clean keep-alive run', () => {
    expect(parseWrk(fixture('wrk-keepalive.txt'))).toEqual({
      requests: 6015,
      seconds: 1.01,
      rps: 5948.31,
      p50Ms: 1.07,
      p99Ms: 13.12,
      non2xx: 0,
      socketErrors: { connect: 0, read: 0, write: 0, timeout: 0 },
      errors: 0,
    });
  });
  it('counts non-2xx responses and every kind of socket error as errors', () => {
    const r = parseWrk(fixture('wrk-errors.txt'));
    expect(r.socketErrors).toEqual({ connect: 3, read: 12, write: 1, timeout: 4 });
    expect(r.non2xx).toBe(7);
    expect(r.errors).toBe(27);
    expect(r.p50Ms).toBeCloseTo(0.63591);
    expect(r.p99Ms).toBe(1200);
    expect(r.requests).toBe(123685);
    expect(r.seconds).toBe(10);
  });
  it('fails clearly when wrk printed no summary (it could not connect at all)', () => {
    expect(() => parseWrk('unable to connect to 127.0.0.1:1 Connection refused\n')).toThrow(/no summary/);
  });
});

describe('wrkArgs', () => {
  it('asks for the latency distribution, passes headers, and ends with the URL', () => {
    const args = wrkArgs({ url: 'http://127.0.0.1:1/', connections: 50, threads: 1, durationS: 2, headers: { Connection: 'close' } });
    expect(args).toEqual(['--latency', '-t', '1', '-c', '50', '-d', '2s', '--timeout', '5s', '-H', 'Connection: close', 'http://127.0.0.1:1/']);
  });
  it('sends POST bodies through a generated lua script', () => {
    const args = wrkArgs({ url: 'http://127.0.0.1:1/upload', connections: 1, durationS: 1, method: 'POST', bodyBytes: 65536 });
    const script = args[args.indexOf('-s') + 1]!;
    expect(readFileSync(script, 'utf8')).toContain('string.rep("x", 65536)');
    expect(readFileSync(script, 'utf8')).toContain('wrk.method = "POST"');
  });
});
