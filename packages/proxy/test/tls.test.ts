import { X509Certificate } from 'node:crypto';
import { readFileSync, rmSync, statSync } from 'node:fs';
import https from 'node:https';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { request, runCleanups, tempDir } from '@nodicorn/testkit';
import { startProxy, startUpstream } from './helpers.js';

afterEach(runCleanups);

function get(url: string, ca: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string; headers: Record<string, unknown>; protocol: string | null }> {
  return new Promise((resolve, reject) => {
    https
      .get(url, { ca, agent: false, headers }, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode!, body, headers: res.headers, protocol: (res.socket as tls.TLSSocket).getProtocol?.() ?? null }));
      })
      .on('error', reject);
  });
}

describe('https listeners', () => {
  it('generates a self-signed certificate once, verifies with it as the CA, and reuses it', async () => {
    const up = await startUpstream();
    const state = join(up.dir, 'state');
    const proxy = await startProxy(['--listen', 'https://127.0.0.1:0', '--upstream', `unix:${up.socket}`, '--state-dir', state]);
    const certPath = join(state, 'tls', 'localhost-cert.pem');
    expect(proxy.proc.output()).toContain(`NODE_EXTRA_CA_CERTS=${certPath}`);
    expect(proxy.proc.output()).toContain(`curl --cacert ${certPath}`);
    const ca = readFileSync(certPath, 'utf8');
    const x509 = new X509Certificate(ca);
    expect(x509.subjectAltName).toContain('DNS:localhost');
    expect(x509.subjectAltName).toContain('IP Address:127.0.0.1');
    expect(x509.subjectAltName).toContain('IP Address:0:0:0:0:0:0:0:1');
    expect(x509.publicKey.asymmetricKeyType).toBe('ec');
    expect(statSync(join(state, 'tls', 'localhost-key.pem')).mode & 0o077).toBe(0);

    const port = new URL(proxy.https).port;
    for (const host of ['localhost', '127.0.0.1']) {
      const res = await get(`https://${host}:${port}/echo`, ca);
      expect(res.status).toBe(200);
      expect(JSON.parse(res.body).headers['x-forwarded-proto']).toBe('https');
    }
    // Without the CA the handshake must fail: the certificate is really checked.
    await expect(get(`https://localhost:${port}/`, tls.rootCertificates.join('\n'))).rejects.toThrow(/self[- ]signed|unable to verify|certificate/i);

    proxy.proc.signal('SIGTERM');
    expect(await proxy.proc.exited()).toBe(0);
    const again = await startProxy(['--listen', 'https://127.0.0.1:0', '--upstream', `unix:${up.socket}`, '--state-dir', state]);
    expect(again.proc.output()).toContain('using the self-signed development certificate');
    expect(readFileSync(certPath, 'utf8')).toBe(ca);
  });

  it('redirects plain HTTP with 308 to a configured server name, never the client Host', async () => {
    const up = await startUpstream();
    const proxy = await startProxy([
      '--listen', 'http://127.0.0.1:0', '--listen', 'https://127.0.0.1:0', '--upstream', `unix:${up.socket}`,
      '--state-dir', join(up.dir, 'state'), '--redirect-https', '--server-name', 'app.test', '--server-name', 'www.app.test', '--hsts',
    ]);
    const httpsPort = new URL(proxy.https).port;
    const forged = await request({ url: proxy.http, path: '/a?b=1' }, { headers: { host: 'evil.example' } });
    expect([forged.status, forged.headers.location]).toEqual([308, `https://app.test:${httpsPort}/a?b=1`]);
    const named = await request({ url: proxy.http, path: '/x' }, { headers: { host: 'www.app.test' } });
    expect(named.headers.location).toBe(`https://www.app.test:${httpsPort}/x`);

    const ca = readFileSync(join(up.dir, 'state', 'tls', 'localhost-cert.pem'), 'utf8');
    // HSTS only for real names, never for localhost (it would pin every local dev port to https).
    const local = await get(`https://localhost:${httpsPort}/`, ca);
    expect(local.headers['strict-transport-security']).toBeUndefined();
    const named2 = await new Promise<Record<string, unknown>>((resolve, reject) => {
      https.get({ host: '127.0.0.1', port: httpsPort, path: '/', ca, servername: 'localhost', headers: { host: 'app.test' }, agent: false }, (res) => {
        res.resume();
        resolve(res.headers);
      }).on('error', reject);
    });
    expect(named2['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
  });

  it('SIGHUP loads a renewed certificate for new handshakes without dropping an open connection', async () => {
    const up = await startUpstream();
    const state = join(up.dir, 'state');
    const proxy = await startProxy(['--listen', 'https://127.0.0.1:0', '--upstream', `unix:${up.socket}`, '--state-dir', state]);
    const certPath = join(state, 'tls', 'localhost-cert.pem');
    const oldCa = readFileSync(certPath, 'utf8');
    const port = Number(new URL(proxy.https).port);
    const agent = new https.Agent({ keepAlive: true, maxSockets: 1, ca: oldCa });
    const sockets = new Set<tls.TLSSocket>();
    const viaAgent = () =>
      new Promise<number>((resolve, reject) => {
        https.get({ host: 'localhost', port, path: '/', agent }, (res) => {
          sockets.add(res.socket as tls.TLSSocket);
          res.resume().on('end', () => resolve(res.statusCode!));
        }).on('error', reject);
      });
    expect(await viaAgent()).toBe(200);
    rmSync(join(state, 'tls'), { recursive: true });
    proxy.proc.signal('SIGHUP');
    await proxy.proc.waitFor(/Reloaded configuration and certificates/);
    const newCa = readFileSync(certPath, 'utf8');
    expect(newCa).not.toBe(oldCa);
    // The kept-alive connection made with the old certificate still serves…
    expect(await viaAgent()).toBe(200);
    expect(sockets.size).toBe(1);
    // …and a new handshake presents the new one.
    expect((await get(`https://localhost:${port}/`, newCa)).status).toBe(200);
    agent.destroy();
  });

  it('uses --tls-cert/--tls-key when given, and names the setting when they are unusable', async () => {
    const dir = tempDir('ndcpx-');
    const bad = await import('@nodicorn/testkit').then(({ startProcess, NODICORN_BIN }) =>
      startProcess(process.execPath, [NODICORN_BIN, 'proxy', '--listen', 'https://127.0.0.1:0', '--static', `/=${dir}`, '--tls-cert', join(dir, 'nope.pem'), '--tls-key', join(dir, 'nope.key')]),
    );
    expect(await bad.exited()).toBe(2);
    expect(bad.output().trim().split('\n')).toHaveLength(1);
    expect(bad.output()).toMatch(/--tls-cert\/--tls-key/);
  });
});
