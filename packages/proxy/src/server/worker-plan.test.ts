import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveProxyConfig } from '../settings/resolve.js';
import { decodeWorkerPlan, encodeWorkerPlan } from './worker-plan.js';

describe('the proxy worker plan', () => {
  it('carries the resolved config, the sockets and the certificate files through JSON unchanged', async () => {
    const { flags: _flags, ...config } = await resolveProxyConfig(['--listen', 'https://127.0.0.1:0', '--upstream', 'unix:/run/a.sock', '--upstream', '127.0.0.1:9000', '--gzip', 'on', '--max-body', '2m'], '/srv');
    const plan = { config, sockets: [{ scheme: 'https' as const, host: '127.0.0.1', port: 0 }], tls: { certPath: '/srv/c.pem', keyPath: '/srv/k.pem' } };
    const back = decodeWorkerPlan(encodeWorkerPlan(plan));
    expect(back).toEqual(plan);
    expect(back.config.upstreams.get('default')!.servers.map((s) => s.address.label)).toEqual(['unix:/run/a.sock', '127.0.0.1:9000']);
  });

  it('carries host blocks, route traffic control and balanced upstreams too (plain data all through)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ndcplan-'));
    writeFileSync(join(dir, 'p.json'), JSON.stringify({
      upstreams: { app: { balance: 'least_conn', servers: ['127.0.0.1:9000 weight=2', '127.0.0.1:9001 backup'], healthCheck: { path: '/readyz' } } },
      routes: [{ prefix: '/', upstream: 'app', limitReq: { rate: '5r/s', burst: 2 }, allow: ['10.0.0.0/8'], deny: ['all'] }],
      hosts: { 'shop.example *.shop.example': { routes: [{ prefix: '/', upstream: 'app' }], default: true } },
    }));
    const { flags: _flags, ...config } = await resolveProxyConfig(['--config', join(dir, 'p.json')], dir);
    const plan = { config, sockets: [{ scheme: 'http' as const, host: '127.0.0.1', port: 0 }], tls: null };
    expect(decodeWorkerPlan(encodeWorkerPlan(plan))).toEqual(plan);
    rmSync(dir, { recursive: true });
  });

  it('refuses a missing or broken plan in one line saying what starts a worker', () => {
    expect(() => decodeWorkerPlan(undefined)).toThrow(/No NODICORN_PROXY_WORKER in the environment: .*nodicorn proxy --workers N/);
    expect(() => decodeWorkerPlan('{')).toThrow(/NODICORN_PROXY_WORKER is not the JSON plan nodicorn proxy writes/);
  });
});
