import { X509Certificate } from 'node:crypto';
import type { TLSSocket } from 'node:tls';

/**
 * The subject in RFC 2253/4514 form (most specific first, `CN=client,O=Example`), as nginx writes
 * `$ssl_client_s_dn` since 1.11.6. X509Certificate prints it one attribute a line in certificate
 * order, values already escaped by OpenSSL as RFC 2253 asks (`,+"\<>;` and control characters).
 */
function subjectDn(raw: Buffer): string {
  return new X509Certificate(raw).subject.split('\n').filter(Boolean).reverse().join(',');
}

/**
 * What the proxy tells the upstream about the client certificate under `--tls-verify-client
 * optional`, as nginx configs commonly pass `$ssl_client_verify` and `$ssl_client_s_dn`:
 * `X-SSL-Client-Verify: SUCCESS | NONE` (a failing certificate is refused before, by clientCertRejected;
 * FAILED:reason stays as the answer should one ever get here) and, with a certificate,
 * `X-SSL-Client-S-DN`. Nothing on a connection that is not TLS.
 */
export function clientCertHeaders(socket: TLSSocket): string[] {
  if (typeof socket.getPeerCertificate !== 'function') return [];
  const peer = socket.getPeerCertificate();
  if (!peer || !peer.raw) return ['x-ssl-client-verify', 'NONE'];
  // A DN is only worth trusting when the chain was verified, but nginx sends it either way
  // (the upstream reads Verify first); its text is the certificate's, escaped, never raw bytes.
  const dn = subjectDn(peer.raw).replace(/[\r\n\0]/g, '');
  const verify = socket.authorized ? 'SUCCESS' : `FAILED:${String(socket.authorizationError ?? 'unknown')}`;
  return ['x-ssl-client-verify', verify, 'x-ssl-client-s-dn', dn];
}

/**
 * A client certificate was presented and did not verify. nginx's `ssl_verify_client optional`
 * answers such a request 400 ("The SSL certificate error"; only `optional_no_ca` lets it
 * through), so an upstream never sees an unverified DN beside a FAILED it might not read.
 */
export function clientCertRejected(socket: TLSSocket): boolean {
  if (typeof socket.getPeerCertificate !== 'function' || socket.authorized) return false;
  return Boolean(socket.getPeerCertificate()?.raw);
}
