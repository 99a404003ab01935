import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { UsageError } from '../errors.js';
import type { BindSpec } from './bind-spec.js';

type TcpSpec = BindSpec & { kind: 'tcp' };

/** A TCP bind on a host name, and every address that name resolved to. */
export interface ResolvedBind {
  readonly spec: BindSpec;
  /** The name the user wrote, when `spec` came from resolving one; undefined for literals. */
  readonly fromName?: string;
}

export type LookupAll = (host: string) => Promise<readonly { address: string }[]>;

const lookupAll: LookupAll = (host) => lookup(host, { all: true, verbatim: true });

/**
 * `-b localhost:8000` binds every address the name resolves to, IPv4 and IPv6 alike, as nginx's
 * `listen localhost:8000` does; the socket layer only takes literal addresses. Literals, Unix paths
 * and inherited descriptors pass through unchanged.
 */
export async function resolveBindHosts(specs: readonly BindSpec[], lookupHost: LookupAll = lookupAll): Promise<ResolvedBind[]> {
  const out: ResolvedBind[] = [];
  const seen = new Set<string>();
  const add = (entry: ResolvedBind) => {
    const key = JSON.stringify(entry.spec);
    // Port 0 asks for a fresh ephemeral port each time: two of them are two sockets, not one.
    const ephemeral = entry.spec.kind === 'tcp' && entry.spec.port === 0;
    if (seen.has(key) && !ephemeral) return;
    seen.add(key);
    out.push(entry);
  };
  for (const spec of specs) {
    if (spec.kind !== 'tcp' || isIP(spec.host) !== 0) {
      add({ spec });
      continue;
    }
    for (const address of await addressesOf(spec, lookupHost)) add({ spec: { kind: 'tcp', host: address, port: spec.port }, fromName: spec.host });
  }
  return out;
}

async function addressesOf(spec: TcpSpec, lookupHost: LookupAll): Promise<string[]> {
  let found: readonly { address: string }[];
  try {
    found = await lookupHost(spec.host);
  } catch (err) {
    throw unresolvable(spec, (err as NodeJS.ErrnoException).code ?? (err as Error).message);
  }
  if (found.length === 0) throw unresolvable(spec, 'no addresses');
  return [...new Set(found.map((entry) => entry.address))];
}

function unresolvable(spec: TcpSpec, why: string): UsageError {
  return new UsageError(
    'ERR_BAD_BIND',
    `Invalid --bind "${spec.host}:${spec.port}": the host name "${spec.host}" does not resolve (${why}). Use an address this machine has, such as 127.0.0.1 or 0.0.0.0.`,
  );
}
