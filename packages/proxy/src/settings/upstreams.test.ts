import { describe, expect, it } from 'vitest';
import { describeUpstream, upstreamSpec } from './upstreams.js';

const where = 'upstreams.api';
const file = 'proxy.json';

describe('upstreamSpec', () => {
  it('keeps a plain list as round-robin servers of weight 1', () => {
    const u = upstreamSpec(['unix:/run/a.sock', '127.0.0.1:8001'], where);
    expect(u).toMatchObject({ balance: 'round_robin', healthCheck: null, sticky: null });
    expect(u.servers.map((s) => [s.address.label, s.weight, s.backup])).toEqual([['unix:/run/a.sock', 1, false], ['127.0.0.1:8001', 1, false]]);
  });

  it('reads nginx server parameters from the string form and the same fields from objects', () => {
    const u = upstreamSpec({
      balance: 'least_conn',
      servers: ['10.0.0.5:8000 weight=3 max_fails=2 fail_timeout=10s', '10.0.0.6:8000 backup', { address: '10.0.0.7:8000', down: true, failTimeout: '500ms' }],
      healthCheck: { path: '/readyz', interval: '2s', status: 200, rise: 2, fall: 3, port: 9100 },
      sticky: { cookie: 'route', maxAge: 3600 },
    }, where);
    expect(u.servers.map(({ address, ...rest }) => [address.label, rest])).toEqual([
      ['10.0.0.5:8000', { weight: 3, backup: false, down: false, maxFails: 2, failTimeout: 10 }],
      ['10.0.0.6:8000', { weight: 1, backup: true, down: false }],
      ['10.0.0.7:8000', { weight: 1, backup: false, down: true, failTimeout: 0.5 }],
    ]);
    expect(u.healthCheck).toEqual({ path: '/readyz', intervalMs: 2000, timeoutMs: 2000, status: [200, 200], rise: 2, fall: 3, port: 9100 });
    expect(u.sticky).toEqual({ cookie: 'route', maxAge: 3600, path: '/' });
    expect(describeUpstream(u)).toBe('10.0.0.5:8000 weight=3, 10.0.0.6:8000 backup, 10.0.0.7:8000 down; least_conn, sticky cookie route, health GET /readyz every 2s');
  });

  it('takes healthCheck: true as nginx Plus defaults (GET / every 5 s, 2xx-3xx, one pass or failure)', () => {
    expect(upstreamSpec({ servers: ['127.0.0.1:1'], healthCheck: true }, where).healthCheck).toEqual({ path: '/', intervalMs: 5000, timeoutMs: 5000, status: [200, 399], rise: 1, fall: 1, port: null });
  });

  it.each([
    [{ servers: ['127.0.0.1:1'], balanse: 'least_conn' }, 'Config file proxy.json: upstreams.api.balanse is not a key of an upstream; did you mean balance?'],
    [{ servers: ['127.0.0.1:1'], balance: 'least_con' }, 'did you mean "least_conn"?'],
    [{ servers: ['127.0.0.1:1'], healthCheck: { intervall: 5 } }, 'upstreams.api.healthCheck.intervall is not a key of healthCheck; did you mean interval?'],
    [{ servers: [{ address: '127.0.0.1:1', wieght: 2 }] }, 'upstreams.api.servers[0].wieght is not a key of an upstream server; did you mean weight?'],
    [{ servers: ['127.0.0.1:1 weigth=2'] }, 'unknown parameter "weigth"'],
    [{ servers: ['127.0.0.1:1 weight=0'] }, '.weight (proxy.json): expected a whole number from 1 to 1000'],
    [{ servers: ['127.0.0.1:1 backup=1'] }, '"backup" takes no value'],
    [{ servers: ['127.0.0.1:1 down', '127.0.0.1:2 backup'] }, 'at least one primary server must be in service'],
    [{ balance: 'ip_hash', servers: ['127.0.0.1:1', '127.0.0.1:2 backup'] }, 'backup servers cannot be used with ip_hash'],
    [{ servers: ['127.0.0.1:1'], healthCheck: { status: '300-200' } }, 'expected a status (200) or a range ("200-399")'],
    [{ servers: ['127.0.0.1:1'], healthCheck: { path: 'healthz' } }, 'expected a path starting with /'],
    [{ servers: ['127.0.0.1:1'], sticky: { cookie: 'a b' } }, 'expected a cookie name'],
    [{ servers: [] }, 'expected a list of unix:PATH or HOST:PORT'],
    [['nope'], 'expected unix:PATH or HOST:PORT, got "nope"'],
  ])('refuses %j with a one-line answer', (value, message) => {
    expect(() => upstreamSpec(value, where, file)).toThrow(message);
  });
});
