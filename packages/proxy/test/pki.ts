import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** A test CA made with openssl, and leaf certificates it signs (server names or a client). */
export interface TestCa {
  readonly dir: string;
  readonly certPath: string;
  readonly keyPath: string;
  readonly pem: string;
}

export interface Issued {
  readonly certPath: string;
  readonly keyPath: string;
  readonly cert: string;
  readonly key: string;
  /** SHA-256 fingerprint, as `tls.TLSSocket#getPeerCertificate().fingerprint256` writes it. */
  readonly fingerprint: string;
}

const openssl = (args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

export function makeCa(dir: string, name = 'test-ca'): TestCa {
  const certPath = join(dir, `${name}.pem`);
  const keyPath = join(dir, `${name}.key`);
  openssl(['req', '-x509', ...EC, '-keyout', keyPath, '-out', certPath, '-days', '30', '-subj', `/CN=${name}`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  return { dir, certPath, keyPath, pem: readFileSync(certPath, 'utf8') };
}

/**
 * A leaf signed by `ca`, written to `<file>.pem`/`<file>.key`: a server certificate for `names`
 * (DNS SANs), or with `client` a client certificate whose subject is `subject`.
 */
export function issue(ca: TestCa, file: string, options: { names?: readonly string[]; subject?: string; client?: boolean }): Issued {
  const certPath = join(ca.dir, `${file}.pem`);
  const keyPath = join(ca.dir, `${file}.key`);
  const csr = join(ca.dir, `${file}.csr`);
  const ext = join(ca.dir, `${file}.ext`);
  const subject = options.subject ?? `/CN=${options.names?.[0] ?? file}`;
  openssl(['req', '-new', ...EC, '-keyout', keyPath, '-out', csr, '-subj', subject]);
  writeFileSync(
    ext,
    options.client
      ? 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n'
      : `basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=${(options.names ?? []).map((n) => `DNS:${n}`).join(',')}\n`,
  );
  openssl(['x509', '-req', '-in', csr, '-CA', ca.certPath, '-CAkey', ca.keyPath, '-CAcreateserial', '-out', certPath, '-days', '30', '-extfile', ext]);
  const cert = readFileSync(certPath, 'utf8');
  return { certPath, keyPath, cert, key: readFileSync(keyPath, 'utf8'), fingerprint: new X509Certificate(cert).fingerprint256 };
}
