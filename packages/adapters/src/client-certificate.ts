import type { IncomingMessage } from 'node:http';
import type { Certificate, TLSSocket } from 'node:tls';

/**
 * The client's TLS certificate as the server judged it (nodicorn's --cert-reqs optional or required,
 * or any `node:https` server with `requestCert`).
 */
export interface ClientCertificate {
  /** Whether the client presented a certificate that verified against the server's CA list. */
  readonly authorized: boolean;
  /** Why it did not verify (OpenSSL's code: UNABLE_TO_VERIFY_LEAF_SIGNATURE, CERT_HAS_EXPIRED…); undefined when it did. */
  readonly authorizationError: string | undefined;
  /** The certificate's subject (CN, O, …); undefined when the client presented none. */
  readonly subject: Certificate | undefined;
  readonly issuer: Certificate | undefined;
  /** SHA-256 fingerprint, colon-separated hex, as `openssl x509 -fingerprint -sha256` prints it. */
  readonly fingerprint256: string | undefined;
}

/**
 * The client certificate of the connection a Node request came over: undefined over plain HTTP.
 * Reading it is the app's choice, per request (nothing is computed for apps that never ask).
 */
export function certificateOf(incoming: IncomingMessage): ClientCertificate | undefined {
  const socket = incoming.socket as Partial<TLSSocket> | null;
  if (!socket?.encrypted || typeof socket.getPeerCertificate !== 'function') return undefined;
  const peer = socket.getPeerCertificate();
  // Node hands back an empty object when no certificate came.
  const presented = peer !== null && typeof peer === 'object' && typeof peer.fingerprint256 === 'string';
  const error = socket.authorizationError as unknown;
  return {
    authorized: socket.authorized === true,
    authorizationError: socket.authorized === true || error === null || error === undefined ? undefined : error instanceof Error ? error.message : String(error),
    subject: presented ? peer.subject : undefined,
    issuer: presented ? peer.issuer : undefined,
    fingerprint256: presented ? peer.fingerprint256 : undefined,
  };
}
