import { describe, expect, it } from 'vitest';
import { resolveProxyConfig } from '../settings/resolve.js';
import { decodeWorkerPlan, encodeWorkerPlan } from './worker-plan.js';

describe('the proxy worker plan', () => {
  it('carries the resolved config, the sockets and the certificate files through JSON unchanged', async () => {
    const { flags: _flags, ...config } = await resolveProxyConfig(['--listen', 'https://127.0.0.1:0', '--upstream', 'unix:/run/a.sock', '--upstream', '127.0.0.1:9000', '--gzip', 'on', '--max-body', '2m'], '/srv');
    const plan = { config, sockets: [{ scheme: 'https' as const, host: '127.0.0.1', port: 0 }], tls: { certPath: '/srv/c.pem', keyPath: '/srv/k.pem' } };
    const back = decodeWorkerPlan(encodeWorkerPlan(plan));
    expect(back).toEqual(plan);
    expect(back.config.upstreams.get('default')!.map((s) => s.label)).toEqual(['unix:/run/a.sock', '127.0.0.1:9000']);
  });

  it('refuses a missing or broken plan in one line saying what starts a worker', () => {
    expect(() => decodeWorkerPlan(undefined)).toThrow(/No NODICORN_PROXY_WORKER in the environment: .*nodicorn proxy --workers N/);
    expect(() => decodeWorkerPlan('{')).toThrow(/NODICORN_PROXY_WORKER is not the JSON plan nodicorn proxy writes/);
  });
});
