import { X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface GeneratedCert {
  readonly certPath: string;
  readonly keyPath: string;
  readonly cert: string;
  readonly key: string;
  readonly validTo: Date;
  /** True when this start generated it; false when a stored one was reused. */
  readonly generated: boolean;
}

/** Regenerate when less than this much validity is left, so a long-running proxy never serves an expired cert. */
const RENEW_BEFORE_MS = 30 * 24 * 3600 * 1000;
const VALID_DAYS = 365;
const REQUIRED_SANS = ['DNS:localhost', 'IP Address:127.0.0.1', 'IP Address:0:0:0:0:0:0:0:1'];

function usable(cert: string, now: number): Date | null {
  try {
    const x509 = new X509Certificate(cert);
    const validTo = new Date(x509.validTo);
    const sans = x509.subjectAltName ?? '';
    if (validTo.getTime() - now < RENEW_BEFORE_MS) return null;
    // Certificates from before issue 11 item 10 were an unconstrained CA: replace them.
    if (x509.ca) return null;
    if (!REQUIRED_SANS.every((san) => sans.includes(san))) return null;
    return validTo;
  } catch {
    return null;
  }
}

/**
 * The development certificate: a self-signed leaf (not a CA) generated once with `selfsigned`
 * (EC P-256, SHA-256, SANs localhost, 127.0.0.1 and ::1) into `<stateDir>/tls/`, reused until it nears expiry. The key is written 0600
 * and both files are replaced atomically, so a concurrent start never reads half a PEM.
 */
export async function ensureSelfSigned(stateDir: string, now = Date.now()): Promise<GeneratedCert> {
  const dir = join(stateDir, 'tls');
  const certPath = join(dir, 'localhost-cert.pem');
  const keyPath = join(dir, 'localhost-key.pem');
  if (existsSync(certPath) && existsSync(keyPath)) {
    const cert = readFileSync(certPath, 'utf8');
    const validTo = usable(cert, now);
    if (validTo) return { certPath, keyPath, cert, key: readFileSync(keyPath, 'utf8'), validTo, generated: false };
  }
  // Loaded only when a certificate must be made: its ASN.1 stack costs ~100 ms of startup.
  const { generate } = await import('selfsigned');
  const notBeforeDate = new Date(now - 60_000);
  const pems = await generate([{ name: 'commonName', value: 'localhost' }, { name: 'organizationName', value: 'nodicorn development certificate' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate: new Date(now + VALID_DAYS * 24 * 3600 * 1000),
    extensions: [
      // A self-signed leaf (CA:FALSE, no keyCertSign) is still its own trust anchor for
      // NODE_EXTRA_CA_CERTS and curl --cacert, but a user who trusts it trusts only these names:
      // its key cannot sign a certificate for any other host (issue 11 item 10). ECDHE key
      // exchange needs only digitalSignature (RFC 5480 §3: no keyEncipherment for EC keys).
      { name: 'basicConstraints', cA: false, critical: true },
      { name: 'keyUsage', digitalSignature: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }, { type: 7, ip: '::1' }] },
    ],
  });
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tmp = `.${process.pid}.tmp`;
  writeFileSync(keyPath + tmp, pems.private, { mode: 0o600 });
  chmodSync(keyPath + tmp, 0o600);
  writeFileSync(certPath + tmp, pems.cert, { mode: 0o644 });
  renameSync(keyPath + tmp, keyPath);
  renameSync(certPath + tmp, certPath);
  return { certPath, keyPath, cert: pems.cert, key: pems.private, validTo: new Date(new X509Certificate(pems.cert).validTo), generated: true };
}
