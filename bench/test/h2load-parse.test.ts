import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { h2loadArgs } from '../src/load.mjs';
import { parseH2load } from '../src/h2load-parse.mjs';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

describe('parseH2load', () => {
  it('reads a timing-based (-D) run', () => {
    expect(parseH2load(fixture('h2load-duration.txt'))).toEqual({
      requests: 204,
      seconds: 2.07,
      rps: 102,
      p50Ms: null,
      p99Ms: null,
      meanMs: 702.4,
      non2xx: 0,
      socketErrors: { connect: 0, read: 0, write: 0, timeout: 0 },
      errors: 0,
    });
  });

  it('counts failed requests and 4xx/5xx answers as errors', () => {
    const text = [
      'finished in 5.00s, 900.50 req/s, 1.00MB/s',
      'requests: 4600 total, 4700 started, 4600 done, 4500 succeeded, 100 failed, 60 errored, 40 timeout',
      'status codes: 4400 2xx, 10 3xx, 50 4xx, 40 5xx',
      'time for request:      530us     38.81ms      7.92ms      2.94ms    79.64%',
    ].join('\n');
    expect(parseH2load(text)).toMatchObject({ requests: 4500, rps: 900.5, seconds: 5, meanMs: 7.92, non2xx: 90, socketErrors: { read: 60, timeout: 40 }, errors: 190 });
  });

  it('refuses output without a summary', () => {
    expect(() => parseH2load('connect: Connection refused\n')).toThrow(/no summary/);
  });
});

describe('h2loadArgs', () => {
  it('asks for streams per connection over a duration', () => {
    expect(h2loadArgs({ url: 'https://127.0.0.1:1/', connections: 10, streams: 10, durationS: 5 })).toEqual(['-c', '10', '-m', '10', '-t', '1', '-D', '5', 'https://127.0.0.1:1/']);
  });
});
