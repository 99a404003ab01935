import { spawnSync } from 'node:child_process';
import http2 from 'node:http2';
import { afterEach, describe, expect, it } from 'vitest';
import { NODICORN_BIN, runCleanups, startProcess, tempDir } from '@nodicorn/testkit';
import { startProxy, startUpstream, upstreamSeen } from './helpers.js';
import { issue, makeCa } from './pki.js';

afterEach(runCleanups);

/** curl against the proxy as https://localhost:PORT, with or without a client certificate; exit status and body. */
function curl(port: number, ca: string, args: readonly string[]): { status: number | null; body: string; stderr: string } {
  const r = spawnSync('curl', ['-sS', '--max-time', '10', '--cacert', ca, '--resolve', `localhost:${port}:127.0.0.1`, ...args, `https://localhost:${port}/echo`], { encoding: 'utf8' });
  return { status: r.status, body: r.stdout, stderr: r.stderr };
}

/** Whether openssl s_client completes a handshake with these options. */
function handshakes(port: number, args: readonly string[]): boolean {
  const r = spawnSync('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', 'localhost', ...args], { input: '', encoding: 'utf8', timeout: 10_000 });
  return r.status === 0 && /Cipher is (?!\(NONE\))/.test(r.stdout);
}

async function pkiStack(extra: readonly string[]) {
  const up = await startUpstream();
  const ca = makeCa(up.dir);
  const server = issue(ca, 'server', { names: ['localhost'] });
  const alice = issue(ca, 'alice', { client: true, subject: '/O=Example, Inc./CN=alice' });
  const rogueCa = makeCa(up.dir, 'rogue-ca');
  const mallory = issue(rogueCa, 'mallory', { client: true, subject: '/CN=alice' });
  const proxy = await startProxy(['--listen', 'https://127.0.0.1:0', '--upstream', `unix:${up.socket}`, '--tls-cert', server.certPath, '--tls-key', server.keyPath, ...extra.map((a) => a.replace('CA', ca.certPath))]);
  return { up, ca, alice, mallory, proxy, port: Number(new URL(proxy.https).port) };
}

const headersOf = (body: string) => (JSON.parse(body) as { headers: Record<string, string> }).headers;
const FORGED = ['-H', 'X-SSL-Client-Verify: SUCCESS', '-H', 'X-SSL-Client-S-DN: CN=admin', '-H', 'X-SSL-Client-Cert: forged'];

describe('TLS options on the listeners', () => {
  it('--tls-verify-client on: only a client with a certificate from --tls-ca-certs gets through', async () => {
    const s = await pkiStack(['--tls-ca-certs', 'CA', '--tls-verify-client', 'on']);
    const ok = curl(s.port, s.ca.certPath, ['--cert', s.alice.certPath, '--key', s.alice.keyPath]);
    expect(ok.status).toBe(0);
    expect(headersOf(ok.body)['x-forwarded-proto']).toBe('https');
    const before = (await upstreamSeen(s.up)).count;
    // No certificate, and a certificate from another CA with the same subject: the handshake fails.
    expect(curl(s.port, s.ca.certPath, []).status).not.toBe(0);
    expect(curl(s.port, s.ca.certPath, ['--cert', s.mallory.certPath, '--key', s.mallory.keyPath]).status).not.toBe(0);
    // In TLS 1.2 the refusal is part of the handshake itself (in 1.3 it follows the client's Finished).
    expect(handshakes(s.port, ['-tls1_2'])).toBe(false);
    expect(handshakes(s.port, ['-tls1_2', '-cert', s.alice.certPath, '-key', s.alice.keyPath])).toBe(true);
    // Only the /count probe itself reached the app since.
    expect((await upstreamSeen(s.up)).count).toBe(before + 1);
  });

  it('--tls-verify-client optional: the upstream learns the verdict in X-SSL-Client-Verify/-S-DN, a failing certificate gets 400, and a client cannot forge them', async () => {
    const s = await pkiStack(['--tls-ca-certs', 'CA', '--tls-verify-client', 'optional']);
    const none = headersOf(curl(s.port, s.ca.certPath, FORGED).body);
    expect(none['x-ssl-client-verify']).toBe('NONE');
    expect(none['x-ssl-client-s-dn']).toBeUndefined();
    expect(none['x-ssl-client-cert']).toBeUndefined();

    const good = headersOf(curl(s.port, s.ca.certPath, [...FORGED, '--cert', s.alice.certPath, '--key', s.alice.keyPath]).body);
    expect(good['x-ssl-client-verify']).toBe('SUCCESS');
    expect(good['x-ssl-client-s-dn']).toBe('CN=alice,O=Example\\, Inc.');

    // A certificate that fails verification: 400, as nginx answers under optional; the app never sees it.
    const before = (await upstreamSeen(s.up)).count;
    const rogue = spawnSync('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code}', '--cacert', s.ca.certPath, '--resolve', `localhost:${s.port}:127.0.0.1`, ...FORGED, '--cert', s.mallory.certPath, '--key', s.mallory.keyPath, `https://localhost:${s.port}/echo`], { encoding: 'utf8' });
    expect(rogue.stdout).toBe('400');
    expect((await upstreamSeen(s.up)).count).toBe(before + 1);

    // HTTP/2 reads the same facts from the connection under the stream.
    const session = http2.connect(`https://127.0.0.1:${s.port}`, { servername: 'localhost', ca: s.ca.pem, cert: s.alice.cert, key: s.alice.key });
    const h2 = await new Promise<string>((resolve, reject) => {
      const stream = session.request({ ':path': '/echo', 'x-ssl-client-verify': 'SUCCESS', 'x-ssl-client-s-dn': 'CN=admin' }, { endStream: true });
      let body = '';
      stream.on('data', (c: Buffer) => (body += c)).on('end', () => resolve(body)).on('error', reject);
    });
    session.close();
    expect(headersOf(h2)['x-ssl-client-verify']).toBe('SUCCESS');
    expect(headersOf(h2)['x-ssl-client-s-dn']).toBe('CN=alice,O=Example\\, Inc.');
  });

  it('without client verification, client-sent X-SSL-Client-* fields are still dropped', async () => {
    const s = await pkiStack([]);
    const h = headersOf(curl(s.port, s.ca.certPath, FORGED).body);
    expect(Object.keys(h).filter((k) => k.startsWith('x-ssl-'))).toEqual([]);
  });

  it('--tls-min-version TLSv1.3 refuses a TLS 1.2 client; the default takes it', async () => {
    const strict = await pkiStack(['--tls-min-version', 'TLSv1.3']);
    expect(handshakes(strict.port, ['-tls1_2'])).toBe(false);
    expect(handshakes(strict.port, ['-tls1_3'])).toBe(true);
    const dflt = await pkiStack([]);
    expect(handshakes(dflt.port, ['-tls1_2'])).toBe(true);
  });

  it('--tls-ciphers limits the TLS 1.2 suites', async () => {
    const s = await pkiStack(['--tls-ciphers', 'ECDHE-ECDSA-CHACHA20-POLY1305']);
    expect(handshakes(s.port, ['-tls1_2', '-cipher', 'ECDHE-ECDSA-AES128-GCM-SHA256'])).toBe(false);
    expect(handshakes(s.port, ['-tls1_2', '-cipher', 'ECDHE-ECDSA-CHACHA20-POLY1305'])).toBe(true);
  });

  it('refuses a bad cipher list, a bad version and verification without a CA in one line naming the setting', async () => {
    const dir = tempDir('ndcpx-');
    for (const [args, named] of [
      [['--tls-ciphers', 'NOT-A-CIPHER'], '--tls-ciphers'],
      [['--tls-min-version', 'TLSv1.1'], '--tls-min-version'],
      [['--tls-verify-client', 'on'], '--tls-verify-client'],
    ] as const) {
      const proc = startProcess(process.execPath, [NODICORN_BIN, 'proxy', '--listen', 'https://127.0.0.1:0', '--static', `/=${dir}`, '--state-dir', dir, ...args]);
      expect(await proc.exited()).toBe(2);
      expect(proc.output().trim().split('\n')).toHaveLength(1);
      expect(proc.output()).toContain(named);
    }
  });
});
