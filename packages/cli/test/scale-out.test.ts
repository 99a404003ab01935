import http from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { NODICORN_BIN, freePort, runCleanups, startNodicorn, startProcess, tempDir, until, type NodicornServer } from '@nodicorn/testkit';

afterEach(runCleanups);

const APP = `
export const app = {
  handle(req, res) {
    let size = 0;
    req.on('data', (c) => (size += c.length));
    req.on('end', () => res.end(process.env.POD + ' ' + req.method + ' ' + size));
  },
};
`;

/**
 * Two "pods" as a cluster has them: the same port on two addresses (127.0.0.2 and 127.0.0.3 are
 * loopback on Linux, as pod IPs are distinct), each a nodicorn master with /readyz on a metrics
 * port and a stop delay, the proxy in front probing /readyz as a load balancer or an Ingress would.
 */
describe('replacing a pod under load, through the proxy', () => {
  it('TERM one pod, start its replacement, then the other: 0 failed requests', async () => {
    const dir = tempDir('ndcpod-');
    writeFileSync(join(dir, 'app.mjs'), APP);
    const [port, metrics] = [await freePort(), await freePort()];
    const pod = (ip: string, name: string) => startNodicorn(['-w', '1', '-b', `${ip}:${port}`, '--metrics-bind', `${ip}:${metrics}`, '--stop-delay', '1', '--graceful-timeout', '5', '-e', `POD=${name}`, '--chdir', dir, 'app.mjs:app']);
    const pods: Record<string, NodicornServer> = { a: await pod('127.0.0.2', 'a1'), b: await pod('127.0.0.3', 'b1') };
    const config = join(dir, 'proxy.json');
    writeFileSync(config, JSON.stringify({
      upstreams: { app: { servers: [`127.0.0.2:${port}`, `127.0.0.3:${port}`], healthCheck: { path: '/readyz', port: metrics, interval: '200ms', timeout: '1s' } } },
      routes: [{ prefix: '/', upstream: 'app' }],
    }));
    const proxyProc = startProcess(process.execPath, [NODICORN_BIN, 'proxy', '--listen', 'http://127.0.0.1:0', '--config', config, '--access-log', 'off']);
    const proxy = { proc: proxyProc, http: (await proxyProc.waitFor(/Listening at: (http:\/\/\S+)/))[1]! };
    await proxyProc.waitFor(/\[INFO\] Ready: /);

    const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
    const seen = new Map<string, number>();
    const failures: string[] = [];
    let total = 0;
    let running = true;
    const one = (method: string) => new Promise<void>((resolve) => {
      const req = http.request(`${proxy.http}/work`, { method, agent, timeout: 10_000 }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => {
          total++;
          if (res.statusCode !== 200 || !body.endsWith(method === 'POST' ? ' POST 512' : ' GET 0')) failures.push(`${method} ${res.statusCode} ${body.slice(0, 80)}`);
          else seen.set(body.split(' ')[0]!, (seen.get(body.split(' ')[0]!) ?? 0) + 1);
          resolve();
        });
      });
      req.on('timeout', () => req.destroy(new Error('timed out')));
      req.on('error', (err) => {
        total++;
        failures.push(`${method} ${err.message}`);
        resolve();
      });
      req.end(method === 'POST' ? Buffer.alloc(512, 120) : undefined);
    });
    // Bounded: eight loops until the replacements are done, and never past 60 s.
    const deadline = Date.now() + 60_000;
    const loops = Array.from({ length: 8 }, async (_, i) => {
      while (running && Date.now() < deadline) await one(i % 2 ? 'POST' : 'GET');
    });

    try {
      await until(() => (seen.get('a1') ?? 0) > 20 && (seen.get('b1') ?? 0) > 20, 15_000, 'both pods to serve');
      for (const [slot, ip, next] of [['a', '127.0.0.2', 'a2'], ['b', '127.0.0.3', 'b2']] as const) {
        pods[slot]!.signal('SIGTERM');
        expect(await pods[slot]!.exited(15_000)).toBe(0);
        pods[slot] = await pod(ip, next);
        await until(() => (seen.get(next) ?? 0) > 20, 15_000, `${next} to take traffic`);
      }
    } finally {
      running = false;
      await Promise.all(loops);
      agent.destroy();
    }
    if (process.env.NODICORN_TEST_FIGURES) console.log(`pod replacement: ${total} requests, ${failures.length} failed, served by ${JSON.stringify(Object.fromEntries(seen))}`);
    expect(failures).toEqual([]);
    expect(total).toBeGreaterThan(200);
    expect(proxy.proc.output()).toMatch(/127\.0\.0\.2:\d+ failed its health check \(GET \/readyz: status 503/);
  });
});
