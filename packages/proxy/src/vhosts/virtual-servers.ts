import type { ProxyConfig, Route } from '../settings/resolve.js';
import { ServerNames } from './server-names.js';

/** One server of the config, as nginx's `server {}`: the top level, or a `hosts` block. */
export interface ServerBlock {
  readonly names: readonly string[];
  readonly routes: readonly Route[];
  /** Which certificate the block presents: '' for the top-level (or generated) one. */
  readonly certKey: string;
}

export const TOP_LEVEL_CERT = '';

export function certKeyOf(tlsCert: string | null, tlsKey: string | null): string {
  return tlsCert && tlsKey ? `${tlsCert}\n${tlsKey}` : TOP_LEVEL_CERT;
}

/**
 * The config's servers looked up by name, for requests (Host, `:authority`) and TLS handshakes
 * (SNI) alike, so a connection's certificate and its requests' routes always come from the same
 * block. Host blocks are matched first; the top level answers its --server-name names and, unless
 * a block is marked `default`, every name no block covers.
 */
export class VirtualServers<T> {
  readonly #names = new ServerNames<T>();
  readonly #default: T;
  /** Whether any name selects something other than the default (no lookup needed otherwise). */
  readonly routed: boolean;

  constructor(config: ProxyConfig, make: (block: ServerBlock) => T) {
    const blocks = config.hosts.map((h) => make({ names: h.names, routes: h.routes, certKey: certKeyOf(h.tlsCert, h.tlsKey) }));
    config.hosts.forEach((h, i) => h.names.forEach((n) => this.#names.add(n, blocks[i]!)));
    const top = config.routes.length > 0 ? make({ names: config.settings.serverName, routes: config.routes, certKey: TOP_LEVEL_CERT }) : undefined;
    // A host block naming the same host as --server-name takes it: the block is the specific one.
    if (top !== undefined) for (const n of config.settings.serverName) this.#names.add(n, top);
    this.#default = config.defaultHost >= 0 ? blocks[config.defaultHost]! : (top ?? blocks[0]!);
    this.routed = blocks.length > 0;
  }

  get default(): T {
    return this.#default;
  }

  /** The server for a Host or SNI name; the default server for a name none covers, or none given. */
  find(host: string | undefined | false | null): T {
    if (!this.routed || !host) return this.#default;
    return this.#names.match(host) ?? this.#default;
  }
}
