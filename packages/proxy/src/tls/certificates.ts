import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createSecureContext, type SecureContext, type SecureContextOptions } from 'node:tls';
import { ProxyError } from '../errors.js';
import type { ProxySettings } from '../settings/definitions.js';
import type { ProxyConfig } from '../settings/resolve.js';
import { certKeyOf, TOP_LEVEL_CERT, VirtualServers } from '../vhosts/virtual-servers.js';
import { TLS_SECURE_OPTIONS } from './hardening.js';
import { ensureSelfSigned, type GeneratedCert } from './self-signed.js';

export interface TlsMaterial {
  readonly cert: string;
  readonly key: string;
  readonly certPath: string;
  readonly keyPath: string;
  /** Set when the certificate is the generated development one. */
  readonly selfSigned: GeneratedCert | null;
}

const tlsError = (message: string) => new ProxyError('ERR_PROXY_TLS', message, 2);

/** The certificate for https listeners: --tls-cert/--tls-key when given, else the generated one. */
export async function loadTls(settings: ProxySettings, cwd: string): Promise<TlsMaterial> {
  if (settings.tlsCert && settings.tlsKey) {
    const [certPath, keyPath] = [resolve(cwd, settings.tlsCert), resolve(cwd, settings.tlsKey)];
    return { ...readPair(certPath, keyPath, '--tls-cert/--tls-key'), certPath, keyPath, selfSigned: null };
  }
  try {
    const generated = await ensureSelfSigned(resolve(cwd, settings.stateDir));
    return { cert: generated.cert, key: generated.key, certPath: generated.certPath, keyPath: generated.keyPath, selfSigned: generated };
  } catch (err) {
    throw tlsError(`Cannot create the development certificate in --state-dir ${settings.stateDir} (${(err as Error).message}); make it writable or pass --tls-cert/--tls-key.`);
  }
}

/** Reads a certificate and its key, checked as a pair; every failure names the file. */
function readPair(certPath: string, keyPath: string, setting: string): { cert: string; key: string } {
  const read = (path: string) => {
    try {
      return readFileSync(path, 'utf8');
    } catch (err) {
      throw tlsError(`Cannot read ${setting} file ${path} (${(err as NodeJS.ErrnoException).code ?? String(err)}); check the path.`);
    }
  };
  const cert = read(certPath);
  const key = read(keyPath);
  try {
    createSecureContext({ cert, key });
  } catch (err) {
    throw tlsError(`${setting} ${certPath} and ${keyPath} are not a usable PEM certificate and matching key (${(err as Error).message}).`);
  }
  return { cert, key };
}

/** The options every secure context of the listeners shares: protocol floor, ciphers, client CA. */
function sharedOptions(settings: ProxySettings, cwd: string): SecureContextOptions {
  const options: SecureContextOptions = { minVersion: settings.tlsMinVersion, secureOptions: TLS_SECURE_OPTIONS };
  if (settings.tlsCiphers !== null) {
    try {
      createSecureContext({ ciphers: settings.tlsCiphers });
    } catch (err) {
      throw tlsError(`--tls-ciphers "${settings.tlsCiphers}" is not an OpenSSL cipher list this Node accepts (${(err as Error).message}); see openssl ciphers -v.`);
    }
    options.ciphers = settings.tlsCiphers;
  }
  if (settings.tlsCaCerts !== null) {
    const path = resolve(cwd, settings.tlsCaCerts);
    try {
      options.ca = readFileSync(path, 'utf8');
      createSecureContext({ ca: options.ca });
    } catch (err) {
      throw tlsError(`Cannot use --tls-ca-certs file ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); give a PEM file of CA certificates.`);
    }
  }
  return options;
}

/**
 * Every certificate the https listeners present, read in one go (at start and on SIGHUP, where a
 * failure keeps the previous set): the top-level one, and one per `hosts` block that names its
 * own, chosen by SNI through the same name lookup that routes requests.
 */
export class Certificates {
  readonly #contexts = new Map<string, SecureContext>();
  readonly #pems = new Map<string, { cert: string; key: string }>();

  private constructor(
    readonly primary: TlsMaterial,
    private readonly shared: SecureContextOptions,
    private readonly servers: VirtualServers<string>,
  ) {}

  /**
   * `primary` given: the certificate its master already loaded or generated, read from its files
   * (a proxy worker never generates one, so workers cannot race to write it).
   */
  static async load(config: ProxyConfig, primary?: { readonly certPath: string; readonly keyPath: string }): Promise<Certificates> {
    const shared = sharedOptions(config.settings, config.cwd);
    const top = primary ? { ...readPair(primary.certPath, primary.keyPath, '--tls-cert/--tls-key'), ...primary, selfSigned: null } : await loadTls(config.settings, config.cwd);
    const certs = new Certificates(top, shared, new VirtualServers(config, (b) => b.certKey));
    certs.#add(TOP_LEVEL_CERT, top);
    for (const h of config.hosts) {
      const key = certKeyOf(h.tlsCert, h.tlsKey);
      if (key === TOP_LEVEL_CERT || certs.#pems.has(key)) continue;
      certs.#add(key, readPair(h.tlsCert!, h.tlsKey!, `hosts.${h.names.join(' ')} tlsCert/tlsKey`));
    }
    return certs;
  }

  #add(key: string, pem: { cert: string; key: string }): void {
    this.#pems.set(key, { cert: pem.cert, key: pem.key });
    this.#contexts.set(key, createSecureContext({ ...this.shared, cert: pem.cert, key: pem.key }));
  }

  /** Options for the listener's own context: the default server's certificate, for clients sending no SNI. */
  defaultOptions(): SecureContextOptions {
    return { ...this.shared, ...this.#pems.get(this.servers.default)! };
  }

  /** The context for an SNI name: its server's certificate (the default server's for unknown names). */
  contextFor(servername: string): SecureContext | undefined {
    return this.#contexts.get(this.servers.find(servername));
  }
}
