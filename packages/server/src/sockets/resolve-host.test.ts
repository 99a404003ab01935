import { describe, expect, it } from 'vitest';
import { resolveBindHosts, type LookupAll } from './resolve-host.js';

const table: Record<string, string[]> = { localhost: ['127.0.0.1', '::1'], twice: ['127.0.0.1', '127.0.0.1'] };
const fakeLookup: LookupAll = async (host) => {
  const found = table[host];
  if (!found) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
  return found.map((address) => ({ address }));
};

describe('resolveBindHosts', () => {
  it('binds every address a name resolves to, IPv4 and IPv6, marked with the name', async () => {
    expect(await resolveBindHosts([{ kind: 'tcp', host: 'localhost', port: 8000 }], fakeLookup)).toEqual([
      { spec: { kind: 'tcp', host: '127.0.0.1', port: 8000 }, fromName: 'localhost' },
      { spec: { kind: 'tcp', host: '::1', port: 8000 }, fromName: 'localhost' },
    ]);
  });

  it('passes literals, Unix paths and descriptors through without a lookup, and drops repeats', async () => {
    const never: LookupAll = () => Promise.reject(new Error('looked up a literal'));
    const specs = [
      { kind: 'tcp', host: '0.0.0.0', port: 80 },
      { kind: 'tcp', host: '::', port: 80 },
      { kind: 'unix', path: '/run/a.sock' },
      { kind: 'fd', fd: 3 },
      { kind: 'tcp', host: '0.0.0.0', port: 80 },
    ] as const;
    expect(await resolveBindHosts(specs, never)).toEqual(specs.slice(0, 4).map((spec) => ({ spec })));
    expect(await resolveBindHosts([{ kind: 'tcp', host: 'twice', port: 1 }], fakeLookup)).toHaveLength(1);
  });

  it('keeps every port-0 bind: each asks for its own ephemeral port', async () => {
    const ephemeral = { kind: 'tcp', host: '127.0.0.1', port: 0 } as const;
    expect(await resolveBindHosts([ephemeral, ephemeral], fakeLookup)).toEqual([{ spec: ephemeral }, { spec: ephemeral }]);
  });

  it('refuses a name that does not resolve, in one line naming the bind', async () => {
    await expect(resolveBindHosts([{ kind: 'tcp', host: 'nowhere.invalid', port: 80 }], fakeLookup)).rejects.toThrow(
      /Invalid --bind "nowhere\.invalid:80": the host name "nowhere\.invalid" does not resolve \(ENOTFOUND\)/,
    );
  });
});
