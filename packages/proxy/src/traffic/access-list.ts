import { BlockList, isIP } from 'node:net';

/** One nginx `allow`/`deny` line: an address, a CIDR range, or `all`. */
export interface AccessRule {
  readonly action: 'allow' | 'deny';
  readonly address: string;
}

/** What is wrong with an allow/deny address, or undefined when it is one nginx would take. */
export function accessAddressProblem(text: string): string | undefined {
  if (text === 'all') return undefined;
  const [address, bits, extra] = text.split('/');
  const family = isIP(address ?? '');
  if (!family || extra !== undefined) return `expected an address, a CIDR range (10.0.0.0/8, 2001:db8::/32) or all, got ${JSON.stringify(text)}`;
  if (bits !== undefined && (!/^\d{1,3}$/.test(bits) || Number(bits) > (family === 4 ? 32 : 128))) return `the prefix length of ${JSON.stringify(text)} must be 0 to ${family === 4 ? 32 : 128}`;
  return undefined;
}

interface CompiledRule {
  readonly allow: boolean;
  /** null matches every address (`all`). */
  readonly list: BlockList | null;
}

/**
 * nginx's ngx_http_access_module: the rules are checked in order and the first that matches the
 * client decides; no rule matching allows. A bare address is a /32 (or /128). An IPv4 client is
 * matched by IPv4 rules only, and an IPv4-mapped IPv6 address (`::ffff:10.0.0.1`) counts as IPv4,
 * as nginx matches it.
 */
export class AccessList {
  readonly #rules: readonly CompiledRule[];

  constructor(rules: readonly AccessRule[]) {
    this.#rules = rules.map((r) => {
      if (r.address === 'all') return { allow: r.action === 'allow', list: null };
      const [address, bits] = r.address.split('/') as [string, string | undefined];
      const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
      const list = new BlockList();
      list.addSubnet(address, bits === undefined ? (family === 'ipv4' ? 32 : 128) : Number(bits), family);
      return { allow: r.action === 'allow', list };
    });
  }

  allows(client: string): boolean {
    const mapped = client.startsWith('::ffff:') && client.includes('.');
    const address = mapped ? client.slice(7) : client;
    const family = isIP(address);
    for (const rule of this.#rules) {
      if (rule.list === null) return rule.allow;
      if (family !== 0 && rule.list.check(address, family === 4 ? 'ipv4' : 'ipv6')) return rule.allow;
    }
    return true;
  }
}
