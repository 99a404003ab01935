import type { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { SecureVersion } from 'node:tls';
import { EXIT, NodicornError, SettingError } from '../errors.js';
import type { Settings } from '../settings/definitions.js';

/** What a worker's https server is created with (--certfile and the settings beside it). */
export interface WorkerTls {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly ca?: Buffer;
  readonly ciphers?: string;
  readonly minVersion: SecureVersion;
  readonly requestCert: boolean;
  readonly rejectUnauthorized: boolean;
}

type FileSetting = 'certfile' | 'keyfile' | 'caCerts';
const NAMES: Record<FileSetting, [name: string, flag: string]> = {
  certfile: ['certfile', '--certfile'],
  keyfile: ['keyfile', '--keyfile'],
  caCerts: ['ca_certs', '--ca-certs'],
};

function read(setting: FileSetting, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    const [name, flag] = NAMES[setting];
    throw new NodicornError('ERR_BAD_SETTING', `Cannot read ${name} (${flag}) ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}.`);
  }
}

function badFile(setting: FileSetting, path: string, what: string): NodicornError {
  const [name, flag] = NAMES[setting];
  return new NodicornError('ERR_BAD_SETTING', `Invalid ${name} (${flag}) ${path}: ${what}.`);
}

/**
 * The workers' TLS options, the files read now: each worker reads them as it boots, so a worker
 * started by HUP presents a certificate renewed on disk (Gunicorn's workers load the files per
 * worker too). Undefined when the server speaks plain HTTP.
 */
export function loadWorkerTls(settings: Settings): WorkerTls | undefined {
  if (!settings.certfile || !settings.keyfile) return undefined;
  const verify = settings.certReqs !== 'none';
  return {
    cert: read('certfile', settings.certfile),
    key: read('keyfile', settings.keyfile),
    ...(settings.caCerts ? { ca: read('caCerts', settings.caCerts) } : {}),
    ...(settings.ciphers ? { ciphers: settings.ciphers } : {}),
    minVersion: settings.tlsMinVersion,
    requestCert: verify,
    rejectUnauthorized: settings.certReqs === 'required',
  };
}

/** Every PEM certificate block in a bundle. */
function pemCertificates(text: string): string[] {
  return text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
}

/**
 * Checks the TLS settings as the master starts and before a HUP replaces the workers, so a bad file
 * is one line naming the setting instead of every new worker failing its boot: the settings go
 * together, the files read and parse, the key is the certificate's, and OpenSSL takes the cipher list.
 */
export async function checkWorkerTls(settings: Settings): Promise<void> {
  if (!settings.certfile !== !settings.keyfile) {
    throw new NodicornError('ERR_BAD_SETTING', `Invalid ${settings.certfile ? 'keyfile (--keyfile)' : 'certfile (--certfile)'}: --certfile and --keyfile go together; give both or neither.`, EXIT.USAGE);
  }
  if (!settings.certfile) {
    const orphan = settings.caCerts ? 'ca_certs (--ca-certs)' : settings.certReqs !== 'none' ? 'cert_reqs (--cert-reqs)' : settings.ciphers ? 'ciphers (--ciphers)' : undefined;
    if (orphan) throw new SettingError(`Invalid ${orphan}: it configures the workers' TLS, which needs --certfile and --keyfile; give them, or drop it.`);
    return;
  }
  if (settings.certReqs !== 'none' && !settings.caCerts) {
    throw new SettingError(`Invalid cert_reqs (--cert-reqs) ${settings.certReqs}: client certificates are checked against --ca-certs FILE, the authorities that sign them; give it.`);
  }
  const material = loadWorkerTls(settings)!;
  // Loaded only for a server that speaks TLS: most masters never need OpenSSL's bindings.
  const [{ X509Certificate, createPrivateKey }, tls] = await Promise.all([import('node:crypto'), import('node:tls')]);
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(material.cert);
  } catch (err) {
    throw badFile('certfile', settings.certfile, `not a PEM certificate (${(err as Error).message})`);
  }
  try {
    if (!cert.checkPrivateKey(createPrivateKey(material.key))) throw badFile('keyfile', settings.keyfile!, `not the private key of ${settings.certfile}`);
  } catch (err) {
    if (err instanceof NodicornError) throw err;
    throw badFile('keyfile', settings.keyfile!, `not a PEM private key (${(err as Error).message}); an encrypted key is not taken`);
  }
  if (material.ca) {
    const blocks = pemCertificates(material.ca.toString('latin1'));
    if (blocks.length === 0) throw badFile('caCerts', settings.caCerts!, 'holds no PEM certificate');
    for (const block of blocks) {
      try {
        new X509Certificate(block);
      } catch (err) {
        throw badFile('caCerts', settings.caCerts!, `a certificate in it does not parse (${(err as Error).message})`);
      }
    }
  }
  try {
    tls.createSecureContext(material);
  } catch (err) {
    const message = (err as Error).message;
    if (settings.ciphers && /cipher/i.test(message)) throw new SettingError(`Invalid ciphers (--ciphers) "${settings.ciphers}": OpenSSL matches no cipher in it (${message}). Write an OpenSSL cipher list, such as ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256.`);
    throw new NodicornError('ERR_BAD_SETTING', `Invalid TLS settings (--certfile ${settings.certfile}): ${message}.`);
  }
}
