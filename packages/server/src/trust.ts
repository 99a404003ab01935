import proxyaddr from 'proxy-addr';

/** Parses Gunicorn's forwarded_allow_ips: a comma-separated list of addresses and CIDR ranges, or `*`. */
export function parseAllowList(text: string): string[] {
  return text.split(',').map((s) => s.trim()).filter(Boolean);
}

/**
 * The server's proxy-trust decision for one peer: a Unix-socket peer (no address) is trusted, as in
 * Gunicorn; a TCP peer is trusted when it is in forwarded_allow_ips (`*` trusts every peer).
 */
export function compileTrust(allowList: readonly string[]): (address: string | undefined) => boolean {
  if (allowList.includes('*')) return () => true;
  const matches = proxyaddr.compile([...allowList]);
  return (address) => !address || matches(address, 0);
}
