import { describe, expect, it } from 'vitest';
import { detectNodicorn, detectProxy } from '../src/detect.mjs';
import { PROXY_WORKERS, proxyArgs, proxyConfig } from '../src/contenders.mjs';
import { GZIP_LEVEL, LIMITED, nginxConf } from '../src/nginx.mjs';
import { frameworkScenarios, frameworksTable, mixedBaseline, targets } from '../src/scenarios.mjs';

describe('detectNodicorn', () => {
  it('finds nothing new in today\'s help', () => {
    expect(detectNodicorn('  -w, --workers INT   The number of worker processes.\n')).toEqual({ dispatch: [], sync: false });
  });
  it('finds the dispatch modes and the sync worker class once they are listed', () => {
    const help = [
      '  --dispatch shared|round-robin|reuse-port   How connections reach workers. [default: "shared"]',
      '  -k, --worker-class sync|async              async: many requests per worker. [default: "async"]',
    ].join('\n');
    expect(detectNodicorn(help, '24.1.0')).toEqual({ dispatch: ['shared', 'round-robin', 'reuse-port'], sync: true });
    expect(detectNodicorn(help, '20.19.0').dispatch).toEqual(['shared', 'round-robin']);
  });
  it('does not take "async" for "sync"', () => {
    expect(detectNodicorn('  --worker-class async   [default: "async"]').sync).toBe(false);
  });
});

describe('detectProxy', () => {
  it('rejects the server help the CLI falls through to today, though it exits 0', () => {
    expect(detectProxy(0, 'Usage: nodicorn [OPTIONS] APP\n').ok).toBe(false);
  });
  it('names the flags the bench needs and the proxy lacks', () => {
    const r = detectProxy(0, 'Usage: nodicorn proxy [OPTIONS]\n  --bind ADDRESS\n  --upstream PREFIX=ADDR\n');
    expect(r.ok).toBe(false);
    expect(r.why).toContain('--tls-cert, --tls-key, --static');
  });
  it('accepts a proxy with every flag', () => {
    expect(detectProxy(0, 'Usage: nodicorn proxy\n --workers --listen --tls-cert --tls-key --static --upstream --access-log --gzip --gzip-comp-level').ok).toBe(true);
    expect(detectProxy(1, '').ok).toBe(false);
  });
});

describe('nginxConf', () => {
  const conf = nginxConf({ prefix: '/t', port: 1, tlsPort: 2, cert: '/t/c.pem', key: '/t/k.pem', upstreamSocket: '/t/app.sock', staticRoot: '/t' });
  it('proxies to the Unix socket over kept-alive upstream connections and serves TLS and /static/', () => {
    expect(conf).toContain('server unix:/t/app.sock;');
    expect(conf).toContain('keepalive 32;');
    expect(conf).toContain('proxy_set_header Connection "";');
    expect(conf).toContain('listen 127.0.0.1:2 ssl http2;');
    expect(conf).toContain('location /static/ {\n      root /t;');
    expect(conf).toContain('pid /t/nginx.pid;');
  });
  it('gzips at the level the proxy contender is given', () => {
    expect(conf).toContain('gzip on;');
    expect(conf).toContain(`gzip_comp_level ${GZIP_LEVEL};`);
    const args = proxyArgs({ port: 1, tlsPort: 2, cert: 'c', key: 'k', staticRoot: '/t', sock: '/t/app.sock' });
    expect(args.slice(args.indexOf('--gzip'))).toEqual(['--gzip', 'on', '--gzip-comp-level', String(GZIP_LEVEL)]);
  });
  it('limits the proxy-ratelimited route the same way in both proxies', () => {
    expect(conf).toContain(`limit_req_zone $binary_remote_addr zone=limited:10m rate=${LIMITED.rate};`);
    expect(conf).toContain(`location ${LIMITED.prefix} {\n      limit_req zone=limited burst=${LIMITED.burst} nodelay;\n      proxy_pass http://app;`);
    expect(proxyConfig().routes).toEqual([{ prefix: LIMITED.prefix, upstream: 'default', limitReq: { rate: LIMITED.rate, burst: LIMITED.burst, nodelay: true } }]);
    const args = proxyArgs({ port: 1, tlsPort: 2, cert: 'c', key: 'k', staticRoot: '/t', sock: '/t/app.sock', config: '/t/proxy.json' });
    expect(args.slice(args.indexOf('--config'), args.indexOf('--config') + 2)).toEqual(['--config', '/t/proxy.json']);
  });

  it('runs as many proxy processes as nginx has worker processes', () => {
    const args = proxyArgs({ port: 1, tlsPort: 2, cert: 'c', key: 'k', staticRoot: '/t', sock: '/t/app.sock' });
    expect(args[args.indexOf('--workers') + 1]).toBe(String(PROXY_WORKERS));
    expect(nginxConf({ prefix: '/t', port: 1, tlsPort: 2, cert: 'c', key: 'k', upstreamSocket: '/t/app.sock', staticRoot: '/t', workers: PROXY_WORKERS })).toContain(`worker_processes ${PROXY_WORKERS};`);
  });
});

describe('targets', () => {
  const labels = new Map([['cluster-rr', 'node:cluster round-robin'], ['node-http', 'node:http']]);
  const why = { mixed: 'needs sync', proxy: 'needs proxy' };
  it('rates every nodicorn server row and says by how much a target is missed', () => {
    const tables = [
      { id: 'hello', rows: [{ id: 'nodicorn', label: 'nodicorn (shared)', ratio: 0.855 }, { id: 'cluster-rr', label: 'x', ratio: 1 }] },
      { id: 'reload', rows: [{ id: 'nodicorn', label: 'nodicorn (shared)', failed: 0 }, { id: 'pm2', label: 'PM2', failed: 4 }] },
    ];
    const t = targets(tables, labels, why);
    expect(t[0]).toMatchObject({ verdict: 'missed', measuredText: 'nodicorn (shared): 0.85× node:cluster round-robin (short by 10%)' });
    expect(t.find((x) => x.target.startsWith('zero failed'))).toMatchObject({ verdict: 'met', measuredText: 'nodicorn (shared): 0 failed' });
    expect(t.filter((x) => x.target.startsWith('zero failed'))).toHaveLength(1);
  });
  it('reports the mixed and proxy targets as not measured, with the reason, until their contenders exist', () => {
    const t = targets([], labels, why);
    expect(t.find((x) => x.target.startsWith('mixed'))).toMatchObject({ verdict: 'not measured', measuredText: 'needs sync' });
    expect(t.filter((x) => x.measuredText === 'needs proxy').map((x) => x.target)).toEqual(['proxy plain ≥ 0.60× nginx', 'proxy TLS ≥ 0.50× nginx', 'proxy HTTP/2 ≥ 0.50× nginx', 'proxy static ≥ 0.50× nginx', 'proxy gzip ≥ 0.50× nginx']);
  });
  it('rates sync against round-robin once both exist', () => {
    const t = targets([{ id: 'mixed', baseline: 'nodicorn-round-robin', rows: [{ id: 'nodicorn-sync', label: 'nodicorn sync', ratio: 0.3 }] }], labels, why);
    expect(t.find((x) => x.target.startsWith('mixed'))).toMatchObject({ verdict: 'met' });
    expect(mixedBaseline(['cluster-rr', 'nodicorn-shared', 'nodicorn-round-robin'])).toBe('nodicorn-round-robin');
    expect(mixedBaseline(['cluster-rr', 'nodicorn'])).toBe('nodicorn');
  });
});

describe('frameworksTable', () => {
  const run = (rps, cpu) => ({ rps, p50Ms: 1, p99Ms: 2, errors: 0, requests: rps, cpuUsPerReq: cpu });
  it('puts each framework on nodicorn against its own listen(), ratios per round, and adds a target per framework', () => {
    const scenarios = frameworkScenarios(['express', 'hono']);
    expect(scenarios.map((s) => [s.id, s.baseline])).toEqual([['fw-express', 'fw-cluster-express'], ['fw-hono', 'fw-cluster-hono']]);
    const samples = {
      'fw-express': { 'fw-cluster-express': [run(100, 10), run(200, 10)], 'fw-nodicorn-express': [run(90, 11), run(200, 10)] },
      'fw-hono': { 'fw-cluster-hono': [run(100, 10), null], 'fw-nodicorn-hono': [run(80, 12), run(90, 12)] },
    };
    const table = frameworksTable(['express', 'hono'], samples);
    expect(table.rows.map((r) => [r.id, r.ownRps, r.nodicornRps, r.ratio, r.spread])).toEqual([
      ['express', 150, 145, 0.95, '0.90–1.00'],
      ['hono', 100, 85, 0.8, null],
    ]);
    const lines = targets([table], new Map(), { mixed: '', proxy: '' }).filter((t) => t.target.includes('own listen()'));
    expect(lines.map((t) => [t.target, t.verdict])).toEqual([
      ['express on nodicorn ≥ 0.95× its own listen() under node:cluster', 'met'],
      ['hono on nodicorn ≥ 0.90× its own listen() under node:cluster', 'missed'],
    ]);
  });
});
