import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import proxyaddr from 'proxy-addr';
import { peerAddress } from '../forward/headers.js';

/** Whether a peer is one of --trusted-proxies (proxy-addr's compiled matcher). */
export type TrustMatcher = (address: string, hop: number) => boolean;

/**
 * The client as access rules and limits see it, nginx's realip module with `real_ip_recursive on`:
 * the peer, unless the peer is a trusted proxy, then the last address in X-Forwarded-For that is not
 * a trusted proxy. A client talking to the proxy directly can therefore never choose its own address
 * by sending X-Forwarded-For. An entry that is not an IP address falls back to the peer, as nginx
 * ignores it. IPv4-mapped IPv6 is written as IPv4, as $remote_addr is.
 */
export function clientAddress(req: IncomingMessage, trusted: TrustMatcher | null): string {
  const peer = peerAddress(req);
  if (!trusted || req.headers['x-forwarded-for'] === undefined) return peer;
  const resolved = proxyaddr(req, trusted);
  const plain = resolved.startsWith('::ffff:') && resolved.includes('.') ? resolved.slice(7) : resolved;
  return isIP(plain) ? plain : peer;
}
