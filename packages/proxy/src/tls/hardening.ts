import { constants } from 'node:crypto';

/**
 * OpenSSL options every https listener (and every certificate reload) uses. Renegotiation is
 * refused outright, as nginx does since 1.x (`SSL_OP_NO_RENEGOTIATION` with OpenSSL ≥ 1.1.0h):
 * client-initiated TLS 1.2 renegotiation costs the server a full handshake per request the client
 * sends for free, and Node's own guard (`tls.CLIENT_RENEG_LIMIT`, 3 per 10 min) still allows some.
 * TLS 1.3 has no renegotiation. Feature-detected: an OpenSSL without the flag reads it as 0.
 */
export const TLS_SECURE_OPTIONS: number = constants.SSL_OP_NO_RENEGOTIATION ?? 0;
