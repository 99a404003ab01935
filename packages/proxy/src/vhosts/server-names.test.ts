import { describe, expect, it } from 'vitest';
import { normaliseHost, ServerNames, serverNameProblem } from './server-names.js';

describe('ServerNames (nginx server_name without regexes)', () => {
  const names = new ServerNames<string>();
  names.add('shop.example', 'exact');
  names.add('*.example', 'wild');
  names.add('*.api.example', 'longer-wild');
  names.add('.docs.test', 'dot');
  names.add('a.docs.test', 'dot-exact');

  it('prefers an exact name, then the longest leading wildcard', () => {
    expect(names.match('shop.example')).toBe('exact');
    expect(names.match('x.shop.example')).toBe('wild');
    expect(names.match('a.b.example')).toBe('wild');
    expect(names.match('v1.api.example')).toBe('longer-wild');
    expect(names.match('api.example')).toBe('wild');
  });

  it('a leading wildcard does not cover the bare name; .name covers both', () => {
    expect(names.match('example')).toBeUndefined();
    expect(names.match('docs.test')).toBe('dot');
    expect(names.match('x.y.docs.test')).toBe('dot');
    expect(names.match('a.docs.test')).toBe('dot-exact');
    expect(names.match('xdocs.test')).toBeUndefined();
    expect(names.match('evil-shop.example.attacker')).toBeUndefined();
  });

  it('ignores case, the port and a trailing dot', () => {
    expect(names.match('SHOP.Example.:8443')).toBe('exact');
    expect(names.match('Shop.Example:443')).toBe('exact');
    expect(normaliseHost('[::1]:8443')).toBe('::1');
    expect(normaliseHost('::1')).toBe('::1');
  });

  it('reports a name given twice, and refuses regex and trailing wildcards', () => {
    expect(names.add('SHOP.example', 'again')).toBe('exact');
    expect(names.add('*.docs.test', 'again')).toBe('dot');
    expect(serverNameProblem('www.example.*')).toMatch(/leading label/);
    expect(serverNameProblem('~^www')).toMatch(/not a host name/);
    expect(serverNameProblem('*.ok.example')).toBeUndefined();
  });
});
