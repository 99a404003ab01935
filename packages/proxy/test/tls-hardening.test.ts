import { execFileSync, spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { runCleanups } from '@nodicorn/testkit';
import { startProxy, startUpstream } from './helpers.js';

afterEach(runCleanups);

/** The first bytes of a TLS 1.2 ClientHello record: a handshake record header and a truncated body. */
const PARTIAL_CLIENT_HELLO = Buffer.from('16030100c8010000c40303' + '00'.repeat(16), 'hex');

function httpsGet(port: number, ca: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ port, host: '127.0.0.1', servername: 'localhost', ca }, () => {
      socket.write('GET /echo HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
    });
    let data = '';
    socket.on('data', (c) => (data += c));
    socket.on('end', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(data)?.[1])));
    socket.on('error', reject);
  });
}

describe('https hardening (issue 11 items 5, 10, 14)', () => {
  it('destroys connections whose TLS handshake never finishes within --client-header-timeout', async () => {
    const up = await startUpstream();
    const proxy = await startProxy(['--listen', 'https://127.0.0.1:0', '--upstream', `unix:${up.socket}`, '--state-dir', join(up.dir, 'state'), '--client-header-timeout', '1']);
    const port = new URL(proxy.https).port;
    const started = Date.now();
    // 200 raw TCP connections: half send a partial ClientHello, half send nothing at all.
    const closedAfter = await Promise.all(
      Array.from({ length: 200 }, (_, i) => new Promise<number>((resolve, reject) => {
        const socket = net.connect(Number(port), '127.0.0.1', () => {
          if (i % 2 === 0) socket.write(PARTIAL_CLIENT_HELLO);
        });
        socket.on('data', () => {});
        socket.on('error', () => {});
        socket.on('close', () => resolve(Date.now() - started));
        // The test's own bound: a server that never closes fails here instead of hanging.
        setTimeout(() => (socket.destroy(), reject(new Error('handshake never timed out'))), 6000).unref();
      })),
    );
    expect(Math.max(...closedAfter)).toBeLessThan(1000 + 3000);
    expect(Math.min(...closedAfter)).toBeGreaterThanOrEqual(900);
    const ca = readFileSync(join(up.dir, 'state', 'tls', 'localhost-cert.pem'), 'utf8');
    expect(await httpsGet(Number(port), ca)).toBe(200);
  });

  it('refuses client-initiated TLS 1.2 renegotiation', async () => {
    const up = await startUpstream();
    const proxy = await startProxy(['--listen', 'https://127.0.0.1:0', '--upstream', `unix:${up.socket}`, '--state-dir', join(up.dir, 'state')]);
    const port = Number(new URL(proxy.https).port);
    const ca = readFileSync(join(up.dir, 'state', 'tls', 'localhost-cert.pem'), 'utf8');
    const outcome = await new Promise<string>((resolve) => {
      const socket = tls.connect({ port, host: '127.0.0.1', servername: 'localhost', ca, maxVersion: 'TLSv1.2' }, () => {
        expect(socket.getProtocol()).toBe('TLSv1.2');
        const renegotiated = socket.renegotiate({ rejectUnauthorized: false }, (err) => resolve(err ? `refused: ${err.message}` : 'renegotiated'));
        if (!renegotiated) resolve('refused locally');
      });
      socket.on('error', (err) => resolve(`refused: ${err.message}`));
      socket.on('close', () => resolve('closed'));
      setTimeout(() => (socket.destroy(), resolve('timeout')), 5000).unref();
    });
    expect(outcome).not.toBe('renegotiated');
    expect(outcome).not.toBe('timeout');
    expect(outcome).not.toBe('refused locally');
    // The listener still serves normal requests.
    expect(await httpsGet(port, ca)).toBe(200);
  });

  it('generates a leaf certificate whose key cannot sign for other names, replacing an old CA one', async () => {
    const up = await startUpstream();
    const state = join(up.dir, 'state');
    const tlsDir = join(state, 'tls');
    const certPath = join(tlsDir, 'localhost-cert.pem');
    const keyPath = join(tlsDir, 'localhost-key.pem');
    // An unconstrained CA as the old generator wrote it: it must be replaced.
    mkdirSync(tlsDir, { recursive: true });
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', keyPath, '-out', certPath, '-days', '365', '-subj', '/CN=localhost',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,digitalSignature,keyCertSign', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1'], { stdio: 'ignore' });
    expect(new X509Certificate(readFileSync(certPath)).ca).toBe(true);
    const proxy = await startProxy(['--listen', 'https://127.0.0.1:0', '--upstream', `unix:${up.socket}`, '--state-dir', state]);
    const text = execFileSync('openssl', ['x509', '-in', certPath, '-noout', '-text'], { encoding: 'utf8' });
    expect(text).toMatch(/CA:FALSE/);
    expect(text).not.toMatch(/Certificate Sign/);
    expect(text).toMatch(/TLS Web Server Authentication/);
    expect(text).toMatch(/DNS:localhost, IP Address:127\.0\.0\.1, IP Address:0:0:0:0:0:0:0:1/);
    // Trusted as itself, it verifies (so the failure below is not a broken verify setup)...
    expect(spawnSync('openssl', ['verify', '-CAfile', certPath, certPath]).status).toBe(0);
    // ...but a certificate for evil.example signed with its key does not.
    const evilKey = join(up.dir, 'evil-key.pem');
    const evilCsr = join(up.dir, 'evil.csr');
    const evilCert = join(up.dir, 'evil.pem');
    execFileSync('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', evilKey, '-out', evilCsr, '-subj', '/CN=evil.example'], { stdio: 'ignore' });
    execFileSync('openssl', ['x509', '-req', '-in', evilCsr, '-CA', certPath, '-CAkey', keyPath, '-CAcreateserial', '-out', evilCert, '-days', '30'], { stdio: 'ignore' });
    const verify = spawnSync('openssl', ['verify', '-partial_chain', '-CAfile', certPath, evilCert], { encoding: 'utf8' });
    expect(verify.status).not.toBe(0);
    expect(verify.stdout + verify.stderr).toMatch(/invalid CA certificate|not a CA|unable to get local issuer|error/i);
    expect(proxy.proc.output()).toMatch(/a leaf, not a CA: valid only for localhost, 127\.0\.0\.1, ::1/);
  });
});
