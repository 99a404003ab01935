import { describe, expect, it } from 'vitest';
import { AccessList, accessAddressProblem } from './access-list.js';
import { basicChallenge, basicCredentials } from './basic-auth.js';

describe('AccessList (nginx allow/deny, first match wins)', () => {
  it('checks rules in order; no match allows', () => {
    const list = new AccessList([
      { action: 'deny', address: '10.0.0.5' },
      { action: 'allow', address: '10.0.0.0/8' },
      { action: 'allow', address: '2001:db8::/32' },
      { action: 'deny', address: 'all' },
    ]);
    expect(list.allows('10.0.0.5')).toBe(false);
    expect(list.allows('10.9.8.7')).toBe(true);
    expect(list.allows('::ffff:10.9.8.7')).toBe(true);
    expect(list.allows('::ffff:10.0.0.5')).toBe(false);
    expect(list.allows('2001:db8::1')).toBe(true);
    expect(list.allows('2001:db9::1')).toBe(false);
    expect(list.allows('192.168.1.1')).toBe(false);
    expect(list.allows('not-an-address')).toBe(false);
    expect(new AccessList([{ action: 'deny', address: '192.168.0.0/16' }]).allows('10.0.0.1')).toBe(true);
  });

  it('an IPv4 range does not match an IPv6 client outside the mapped range', () => {
    const list = new AccessList([{ action: 'allow', address: '0.0.0.0/0' }, { action: 'deny', address: 'all' }]);
    expect(list.allows('127.0.0.1')).toBe(true);
    expect(list.allows('::1')).toBe(false);
  });

  it.each([
    ['all', undefined],
    ['10.0.0.0/8', undefined],
    ['::1', undefined],
    ['10.0.0.0/33', /prefix length .* 0 to 32/],
    ['2001:db8::/129', /0 to 128/],
    ['10.0.0', /expected an address/],
    ['10.0.0.0/8/1', /expected an address/],
    ['example.com', /expected an address/],
  ])('%s', (text, problem) => {
    const got = accessAddressProblem(text);
    if (problem) expect(got).toMatch(problem);
    else expect(got).toBeUndefined();
  });
});

describe('basicCredentials (RFC 7617)', () => {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  it('reads user and password, the password may hold colons, the scheme is case-insensitive', () => {
    expect(basicCredentials(`Basic ${b64('alice:se:cret')}`)).toEqual({ user: 'alice', password: 'se:cret' });
    expect(basicCredentials(`bAsIc ${b64('bob:')}`)).toEqual({ user: 'bob', password: '' });
    expect(basicCredentials(`Basic ${b64('zoë:pässwörd')}`)).toEqual({ user: 'zoë', password: 'pässwörd' });
  });
  it.each([undefined, '', 'Bearer abc', 'Basic', 'Basic !!!!', 'Basic YWxpY2U', `Basic ${b64('nocolon')}`, `Basic ${b64('a:b\nc')}`, `Basic ${b64('a:b')} extra`, `Basic ${b64('a:b')}=`])('%j is no credentials', (header) => {
    expect(basicCredentials(header)).toBeNull();
  });
  it('challenges with the realm and UTF-8', () => {
    expect(basicChallenge('Staff')).toBe('Basic realm="Staff", charset="UTF-8"');
  });
});
