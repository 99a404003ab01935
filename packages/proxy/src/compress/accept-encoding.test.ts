import { describe, expect, it } from 'vitest';
import { chooseEncoding, parseAcceptEncoding } from './accept-encoding.js';

const ALL = ['br', 'zstd', 'gzip'] as const;

describe('parseAcceptEncoding', () => {
  it('reads codings and qvalues, case-insensitively, x-gzip as gzip', () => {
    expect([...parseAcceptEncoding('GZIP;Q=0.5, br , x-gzip;q=1, *;q=0')]).toEqual([['gzip', 0.5], ['br', 1], ['*', 0]]);
  });
  it('takes a malformed qvalue as a refusal', () => {
    expect(parseAcceptEncoding('gzip;q=2, br;q=abc').get('gzip')).toBe(0);
    expect(parseAcceptEncoding('gzip;q=2, br;q=abc').get('br')).toBe(0);
  });
});

describe('chooseEncoding', () => {
  it.each([
    [undefined, null],
    ['', null],
    ['identity', null],
    ['gzip', 'gzip'],
    ['gzip, deflate, br', 'br'],
    ['gzip, deflate, br, zstd', 'br'],
    ['zstd, gzip', 'zstd'],
    ['br;q=0, gzip', 'gzip'],
    ['gzip;q=0', null],
    ['br;q=0.5, gzip;q=0.8', 'gzip'],
    ['*', 'br'],
    ['*;q=0.5, gzip', 'gzip'],
    ['*;q=0', null],
    ['gzip;q=0.4, identity;q=0.5', null],
    ['gzip;q=0.5, identity;q=0.5', 'gzip'],
    ['deflate, compress', null],
  ])('%j → %j', (header, expected) => {
    expect(chooseEncoding(header, ALL)).toBe(expected);
  });

  it('only chooses what is offered', () => {
    expect(chooseEncoding('zstd, gzip;q=0.9', ['br', 'gzip'])).toBe('gzip');
    expect(chooseEncoding('zstd', ['br', 'gzip'])).toBeNull();
  });
});
