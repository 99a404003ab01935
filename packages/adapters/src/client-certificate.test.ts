import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { clientCertificate, tagRequest } from './client-info.js';
import { clientInfoFrom } from './forwarded.js';

function incoming(socket: object): IncomingMessage {
  return { socket, headers: { host: 'h' } } as unknown as IncomingMessage;
}

const alice = { subject: { CN: 'alice' }, issuer: { CN: 'ca' }, fingerprint256: 'AA:BB' };

describe('clientCertificate', () => {
  it('is undefined over plain HTTP and for a Request the adapters did not bridge', () => {
    expect(clientCertificate(incoming({ remoteAddress: '127.0.0.1' }))).toBeUndefined();
    expect(clientCertificate(new Request('https://example.com/'))).toBeUndefined();
    expect(clientInfoFrom(incoming({ remoteAddress: '127.0.0.1' }), undefined)).not.toHaveProperty('certificate');
  });

  it('reports the verdict and the certificate, or its absence, from a Node request and a bridged Request alike', () => {
    const verified = incoming({ encrypted: true, authorized: true, authorizationError: null, getPeerCertificate: () => alice });
    expect(clientCertificate(verified)).toEqual({ authorized: true, authorizationError: undefined, ...alice });
    const request = new Request('https://example.com/');
    tagRequest(request, verified, undefined);
    expect(clientCertificate(request)).toEqual(clientCertificate(verified));
    expect(clientInfoFrom(verified, undefined).certificate).toEqual(clientCertificate(verified));
    // Node: an empty object when none came, and the reason as a string (an Error in some versions).
    const none = incoming({ encrypted: true, authorized: false, authorizationError: new Error('UNABLE_TO_GET_ISSUER_CERT'), getPeerCertificate: () => ({}) });
    expect(clientCertificate(none)).toEqual({ authorized: false, authorizationError: 'UNABLE_TO_GET_ISSUER_CERT', subject: undefined, issuer: undefined, fingerprint256: undefined });
  });
});
