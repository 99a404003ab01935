import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Whether the openssl command line tool is here (tests that need real certificates skip without it). */
export const hasOpenssl = spawnSync('openssl', ['version']).status === 0;

export interface CertFiles {
  readonly certPath: string;
  readonly keyPath: string;
}

export interface TestCa extends CertFiles {
  /**
   * A certificate for `cn` signed by this CA, with a P-256 key: a server certificate for 127.0.0.1
   * and localhost when `server` is set, else a client certificate (extendedKeyUsage clientAuth).
   */
  issue(name: string, options: { cn: string; o?: string; server?: boolean }): CertFiles;
}

function openssl(args: readonly string[]): void {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A throwaway certificate authority in `dir` (made with the openssl tool, P-256, valid a day). */
export function makeCa(dir: string, name = 'ca', cn = 'nodicorn test CA'): TestCa {
  const certPath = join(dir, `${name}.pem`);
  const keyPath = join(dir, `${name}.key`);
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', keyPath, '-out', certPath, '-days', '1', '-subj', `/CN=${cn}`]);
  return {
    certPath,
    keyPath,
    issue(leaf, { cn: leafCn, o, server }) {
      const leafCert = join(dir, `${leaf}.pem`);
      const leafKey = join(dir, `${leaf}.key`);
      const csr = join(dir, `${leaf}.csr`);
      const ext = join(dir, `${leaf}.ext`);
      writeFileSync(ext, server ? 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' : 'extendedKeyUsage=clientAuth\n');
      openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', leafKey, '-out', csr, '-subj', `/CN=${leafCn}${o ? `/O=${o}` : ''}`]);
      openssl(['x509', '-req', '-in', csr, '-CA', certPath, '-CAkey', keyPath, '-CAcreateserial', '-out', leafCert, '-days', '1', '-extfile', ext]);
      return { certPath: leafCert, keyPath: leafKey };
    },
  };
}
