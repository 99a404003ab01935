import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { copyFileSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import tls from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { NODICORN_BIN, REPO_ROOT, childPids, hasOpenssl, makeCa, runCleanups, startNodicorn, tempDir, until, type CertFiles, type TestCa } from '@nodicorn/testkit';

afterEach(runCleanups);

const ADAPTERS = pathToFileURL(join(REPO_ROOT, 'packages/adapters/dist/index.js')).href;

/** What the app saw of the client's certificate: a plain listener, and a fetch app through clientInfo(). */
const CERT_APP = `
import { clientCertificate, clientInfo } from ${JSON.stringify(ADAPTERS)};
export const app = (req, res) => {
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ pid: process.pid, certificate: clientCertificate(req) ?? null }));
};
export const fetchApp = { fetch: (request) => Response.json({ pid: process.pid, certificate: clientInfo(request).certificate ?? null }) };
`;

interface Pki {
  dir: string;
  ca: TestCa;
  server: CertFiles;
  alice: CertFiles;
  /** A client certificate from a CA the server does not know. */
  mallory: CertFiles;
}

function pki(): Pki {
  const dir = tempDir();
  const ca = makeCa(dir);
  const other = makeCa(dir, 'other-ca', 'some other CA');
  return {
    dir,
    ca,
    server: ca.issue('server', { cn: 'localhost', server: true }),
    alice: ca.issue('alice', { cn: 'alice', o: 'Example' }),
    mallory: other.issue('mallory', { cn: 'alice', o: 'Example' }),
  };
}

function serverArgs(p: Pki, ...extra: string[]): string[] {
  writeFileSync(join(p.dir, 'app.mjs'), CERT_APP);
  return ['--chdir', p.dir, '-b', '127.0.0.1:0', '--certfile', p.server.certPath, '--keyfile', p.server.keyPath, ...extra];
}

interface Answer {
  status: number;
  body: { pid: number; certificate: null | { authorized: boolean; authorizationError?: string; subject?: Record<string, string>; issuer?: Record<string, string>; fingerprint256?: string } };
  /** What the client's own TLS socket negotiated, and the server certificate it saw. */
  protocol: string | null;
  cipher: string;
  serverFingerprint: string;
}

/** One HTTPS request on a fresh connection (no agent), trusting the test CA. */
function get(port: number, p: Pki, options: { client?: CertFiles; tls?: tls.ConnectionOptions } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = https.get(
      {
        host: '127.0.0.1',
        port,
        path: '/',
        agent: false,
        ca: readFileSync(p.ca.certPath),
        timeout: 10_000,
        ...(options.client ? { cert: readFileSync(options.client.certPath), key: readFileSync(options.client.keyPath) } : {}),
        ...options.tls,
      },
      (res) => {
        const socket = res.socket as tls.TLSSocket;
        const negotiated = { protocol: socket.getProtocol(), cipher: socket.getCipher().name, serverFingerprint: socket.getPeerCertificate().fingerprint256 };
        let text = '';
        res.on('data', (c: Buffer) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Answer['body'], ...negotiated }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
  });
}

const fingerprint = (files: CertFiles) => new X509Certificate(readFileSync(files.certPath)).fingerprint256;

describe.skipIf(!hasOpenssl)('TLS in the workers: mutual TLS, versions, ciphers, renewal on HUP', () => {
  it('--cert-reqs required: no certificate or one from another CA fails the handshake; a good one reaches the app with its subject', async () => {
    const p = pki();
    const server = await startNodicorn([...serverArgs(p, '--ca-certs', p.ca.certPath, '--cert-reqs', 'required'), 'app.mjs:app']);
    // The attacks: without a certificate, and with one that names the same subject under another CA.
    await expect(get(server.port!, p)).rejects.toThrow(/certificate required|alert|ECONNRESET|socket hang up/i);
    await expect(get(server.port!, p, { client: p.mallory })).rejects.toThrow(/unknown ca|alert|ECONNRESET|socket hang up/i);
    const good = await get(server.port!, p, { client: p.alice });
    expect(good.status).toBe(200);
    expect(childPids(server.pid)).toContain(good.body.pid);
    expect(good.body.certificate).toMatchObject({ authorized: true, subject: { CN: 'alice', O: 'Example' }, issuer: { CN: 'nodicorn test CA' }, fingerprint256: fingerprint(p.alice) });
    expect(good.body.certificate?.authorizationError).toBeUndefined();
  });

  it("--cert-reqs optional (Gunicorn's 1): a client without a certificate is served and the app sees authorized false; through a fetch app's clientInfo() too", async () => {
    const p = pki();
    const server = await startNodicorn([...serverArgs(p, '--ca-certs', p.ca.certPath, '--cert-reqs', '1'), 'app.mjs:fetchApp']);
    const anonymous = await get(server.port!, p);
    expect(anonymous.status).toBe(200);
    expect(anonymous.body.certificate).toMatchObject({ authorized: false });
    expect(anonymous.body.certificate?.authorizationError).toMatch(/^[A-Z_]+$/);
    expect(anonymous.body.certificate?.subject).toBeUndefined();
    const foreign = await get(server.port!, p, { client: p.mallory });
    expect(foreign.body.certificate).toMatchObject({ authorized: false, subject: { CN: 'alice' }, fingerprint256: fingerprint(p.mallory) });
    const good = await get(server.port!, p, { client: p.alice });
    expect(good.body.certificate).toMatchObject({ authorized: true, subject: { CN: 'alice' } });
  });

  it('--tls-min-version TLSv1.3 refuses a client capped at TLS 1.2; --ciphers limits TLS 1.2 to the one cipher named', async () => {
    const p = pki();
    const strict = await startNodicorn([...serverArgs(p, '--tls-min-version', 'TLSv1.3'), 'app.mjs:app']);
    await expect(get(strict.port!, p, { tls: { maxVersion: 'TLSv1.2' } })).rejects.toThrow(/protocol version|alert|ECONNRESET/i);
    expect((await get(strict.port!, p)).protocol).toBe('TLSv1.3');

    const one = await startNodicorn([...serverArgs(p, '--ciphers', 'ECDHE-ECDSA-AES128-GCM-SHA256'), 'app.mjs:app']);
    const answer = await get(one.port!, p, { tls: { maxVersion: 'TLSv1.2' } });
    expect(answer).toMatchObject({ status: 200, protocol: 'TLSv1.2', cipher: 'ECDHE-ECDSA-AES128-GCM-SHA256' });
    // A client that offers only another cipher finds none in common.
    await expect(get(one.port!, p, { tls: { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES256-GCM-SHA384' } })).rejects.toThrow(/handshake failure|alert|ECONNRESET/i);
  });

  it('HUP: new workers present the certificate renewed on disk, no request fails meanwhile; a broken file at HUP leaves the old workers serving, one line names it', async () => {
    const p = pki();
    const renewed = p.ca.issue('renewed', { cn: 'localhost', server: true });
    const live = { certPath: join(p.dir, 'live.pem'), keyPath: join(p.dir, 'live.key') };
    copyFileSync(p.server.certPath, live.certPath);
    copyFileSync(p.server.keyPath, live.keyPath);
    writeFileSync(join(p.dir, 'app.mjs'), CERT_APP);
    const server = await startNodicorn(['-w', '2', '--chdir', p.dir, '-b', '127.0.0.1:0', '--certfile', live.certPath, '--keyfile', live.keyPath, 'app.mjs:app']);
    expect((await get(server.port!, p)).serverFingerprint).toBe(fingerprint(p.server));

    // A client on a loop of fresh connections throughout the renewal.
    const failures: unknown[] = [];
    const seen = new Set<string>();
    let served = 0;
    let looping = true;
    const loop = (async () => {
      while (looping) {
        try {
          seen.add((await get(server.port!, p)).serverFingerprint);
          served++;
        } catch (err) {
          failures.push(err);
        }
      }
    })();
    await until(() => served >= 5, 15_000, 'requests before the renewal');
    // Renewed as certbot does it: new files moved into place (the key first, then the certificate).
    copyFileSync(renewed.keyPath, `${live.keyPath}.new`);
    copyFileSync(renewed.certPath, `${live.certPath}.new`);
    renameSync(`${live.keyPath}.new`, live.keyPath);
    renameSync(`${live.certPath}.new`, live.certPath);
    const before = childPids(server.pid);
    server.signal('SIGHUP');
    await server.waitFor(/Reload complete: 2 worker\(s\) serving/);
    await until(() => childPids(server.pid).every((pid) => !before.includes(pid)), 15_000, 'the old workers to exit');
    const afterReload = served;
    await until(() => served >= afterReload + 5, 15_000, 'requests after the renewal');
    looping = false;
    await loop;
    expect(failures).toEqual([]);
    expect((await get(server.port!, p)).serverFingerprint).toBe(fingerprint(renewed));
    expect(seen).toEqual(new Set([fingerprint(p.server), fingerprint(renewed)]));

    // A renewal gone wrong: the certificate file is not a certificate.
    writeFileSync(live.certPath, 'not a certificate\n');
    const serving = childPids(server.pid);
    server.signal('SIGHUP');
    const [line] = await server.waitFor(/\[ERROR\] Reload aborted, the running workers carry on: Invalid certfile \(--certfile\) \S+live\.pem: not a PEM certificate[^\n]*\n/);
    expect(line.trim().split('\n')).toHaveLength(1);
    expect(childPids(server.pid)).toEqual(serving);
    expect((await get(server.port!, p)).serverFingerprint).toBe(fingerprint(renewed));
    expect(server.output()).not.toMatch(/Handling signal: hup[\s\S]*Handling signal: hup/);
  });

  it('bad TLS settings are one line naming the setting: exit 2 for a bad value, exit 1 for a file that cannot be read (as --certfile)', () => {
    const p = pki();
    const run = (...args: string[]) => {
      const result = spawnSync(process.execPath, [NODICORN_BIN, ...serverArgs(p, ...args), 'app.mjs:app'], { encoding: 'utf8', timeout: 30_000 });
      return { code: result.status, lines: `${result.stdout}${result.stderr}`.trim().split('\n') };
    };
    const cases: [string[], number, RegExp][] = [
      [['--cert-reqs', 'maybe'], 2, /^nodicorn: error: Invalid value for --cert-reqs \(cert_reqs\): expected one of none, optional, required \(or 0, 1, 2/],
      [['--cert-reqs', 'required'], 2, /^nodicorn: error: Invalid cert_reqs \(--cert-reqs\) required: .*--ca-certs FILE/],
      [['--cert-reqs', 'required', '--ca-certs', join(p.dir, 'missing.pem')], 1, /^nodicorn: error: Cannot read ca_certs \(--ca-certs\) \S+missing\.pem: ENOENT\.$/],
      [['--cert-reqs', 'required', '--ca-certs', p.alice.keyPath], 1, /^nodicorn: error: Invalid ca_certs \(--ca-certs\) \S+alice\.key: holds no PEM certificate\.$/],
      [['--ciphers', 'NO-SUCH-CIPHER'], 2, /^nodicorn: error: Invalid ciphers \(--ciphers\) "NO-SUCH-CIPHER": OpenSSL matches no cipher/],
      [['--tls-min-version', 'TLSv1.1'], 2, /^nodicorn: error: Invalid value for --tls-min-version \(tls_min_version\): expected one of TLSv1\.2, TLSv1\.3/],
      [['--keyfile', p.alice.keyPath], 1, /^nodicorn: error: Invalid keyfile \(--keyfile\) \S+alice\.key: not the private key of \S+server\.pem\.$/],
      [['--certfile', join(p.dir, 'gone.pem')], 1, /^nodicorn: error: Cannot read certfile \(--certfile\) \S+gone\.pem: ENOENT\.$/],
    ];
    for (const [args, code, message] of cases) {
      const result = run(...args);
      expect(result.lines, args.join(' ')).toHaveLength(1);
      expect(result.lines[0], args.join(' ')).toMatch(message);
      expect(result.code, args.join(' ')).toBe(code);
    }
    // Without TLS to configure, a mutual-TLS setting is a mistake, not silently nothing.
    const orphan = spawnSync(process.execPath, [NODICORN_BIN, '--chdir', p.dir, '-b', '127.0.0.1:0', '--ca-certs', p.ca.certPath, 'app.mjs:app'], { encoding: 'utf8', timeout: 30_000 });
    expect(orphan.stderr.trim()).toMatch(/^nodicorn: error: Invalid ca_certs \(--ca-certs\): it configures the workers' TLS, which needs --certfile and --keyfile/);
    expect(orphan.status).toBe(2);
  });
});
