import { createSecureContext } from 'node:tls';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ProxyError } from '../errors.js';
import type { ProxySettings } from '../settings/definitions.js';
import { ensureSelfSigned, type GeneratedCert } from './self-signed.js';

export interface TlsMaterial {
  readonly cert: string;
  readonly key: string;
  readonly certPath: string;
  readonly keyPath: string;
  /** Set when the certificate is the generated development one. */
  readonly selfSigned: GeneratedCert | null;
}

/**
 * A certificate and its key from files, checked to be a usable pair. Proxy workers read what their
 * master resolved (given or generated): they never generate one themselves.
 */
export function readTlsFiles(certPath: string, keyPath: string): TlsMaterial {
  let cert: string;
  let key: string;
  try {
    cert = readFileSync(certPath, 'utf8');
    key = readFileSync(keyPath, 'utf8');
  } catch (err) {
    throw new ProxyError('ERR_PROXY_TLS', `Cannot read --tls-cert/--tls-key (${(err as NodeJS.ErrnoException).code ?? String(err)}: ${(err as NodeJS.ErrnoException).path ?? ''}); check the paths.`, 2);
  }
  try {
    createSecureContext({ cert, key });
  } catch (err) {
    throw new ProxyError('ERR_PROXY_TLS', `--tls-cert/--tls-key are not a usable PEM certificate and matching key (${(err as Error).message}).`, 2);
  }
  return { cert, key, certPath, keyPath, selfSigned: null };
}

/** The certificate for https listeners: --tls-cert/--tls-key when given, else the generated one. */
export async function loadTls(settings: ProxySettings, cwd: string): Promise<TlsMaterial> {
  if (settings.tlsCert && settings.tlsKey) return readTlsFiles(resolve(cwd, settings.tlsCert), resolve(cwd, settings.tlsKey));
  try {
    const generated = await ensureSelfSigned(resolve(cwd, settings.stateDir));
    return { cert: generated.cert, key: generated.key, certPath: generated.certPath, keyPath: generated.keyPath, selfSigned: generated };
  } catch (err) {
    throw new ProxyError('ERR_PROXY_TLS', `Cannot create the development certificate in --state-dir ${settings.stateDir} (${(err as Error).message}); make it writable or pass --tls-cert/--tls-key.`, 2);
  }
}
