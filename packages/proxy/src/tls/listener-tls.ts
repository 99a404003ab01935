import type { SecureContext, Server as TlsServer, TlsOptions } from 'node:tls';
import type { TlsVerifyClient } from '../settings/definitions.js';
import type { Certificates } from './certificates.js';

/**
 * The TLS side shared by every https listener: the certificate set SNI picks from, swapped whole on
 * SIGHUP (new handshakes see the new set, open connections keep theirs), and the client
 * certificate policy.
 *
 * `--tls-verify-client on` refuses a client without a valid certificate in the handshake itself
 * (Node's `rejectUnauthorized`), where nginx completes the handshake and answers 400 "No required
 * SSL certificate was sent": a refused handshake never reaches the HTTP parser, and an HTTP/2
 * client cannot open streams first. `optional` asks for a certificate and lets every client in;
 * the verdict travels upstream in X-SSL-Client-Verify.
 */
export class ListenerTls {
  #certs: Certificates;

  constructor(
    certs: Certificates,
    readonly verifyClient: TlsVerifyClient,
  ) {
    this.#certs = certs;
  }

  get certificates(): Certificates {
    return this.#certs;
  }

  serverOptions(handshakeTimeoutMs: number): TlsOptions {
    return {
      ...this.#certs.defaultOptions(),
      SNICallback: this.#sni,
      requestCert: this.verifyClient !== 'off',
      rejectUnauthorized: this.verifyClient === 'on',
      // nginx bounds the handshake by client_header_timeout; Node's default is 120 s.
      handshakeTimeout: handshakeTimeoutMs,
    };
  }

  /** Takes a freshly loaded set: the listeners' own (no-SNI) context, and SNI from now on. */
  replace(next: Certificates, servers: readonly TlsServer[]): void {
    for (const s of servers) s.setSecureContext(next.defaultOptions());
    this.#certs = next;
  }

  #sni = (servername: string, done: (err: Error | null, ctx?: SecureContext) => void): void => {
    done(null, this.#certs.contextFor(servername));
  };
}
