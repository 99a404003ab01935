// Files the proxy scenarios need: a self-signed certificate (openssl) and a 5 KB static file.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const STATIC_PATH = '/static/5k.txt';

/** Writes cert.pem/key.pem and static/5k.txt under `dir`; returns their paths. */
export function makeFixtures(dir) {
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-sha256', '-nodes', '-days', '2',
    '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
    '-keyout', key, '-out', cert], { stdio: 'ignore' });
  mkdirSync(join(dir, 'static'), { recursive: true });
  writeFileSync(join(dir, STATIC_PATH), Buffer.alloc(5 * 1024, 'c'));
  return { cert, key, staticRoot: dir };
}
