import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

/**
 * The app callable: what every nodicorn worker serves (our WSGI).
 *
 * Node's own request-listener signature is the request interface, so frameworks built on `node:http`
 * run with no translation.
 */
export interface App {
  /**
   * Handle one HTTP request. A thrown error, or a rejected promise when the handler is async,
   * becomes a 500 (or a closed connection if the response had started); the worker lives on.
   */
  handle(req: IncomingMessage, res: ServerResponse): void | Promise<void>;
  /** Handle an `Upgrade` request (WebSocket). Without it, upgrade requests are refused. */
  upgrade?(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Runs once per worker after the app is loaded and before the worker accepts. Throwing fails the boot. */
  startup?(): void | Promise<void>;
  /** Runs once per worker after in-flight requests drained on a graceful stop. */
  shutdown?(): void | Promise<void>;
}

export type RequestListener = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

/**
 * What the server tells an adapter about its environment. `trustProxy` is the server's
 * forwarded_allow_ips decision for one peer address (undefined for a Unix-socket peer): adapters
 * pass it to the framework (Express `trust proxy`, Koa `app.proxy`) so an app behind a trusted proxy
 * sees the client's address and scheme, and one behind an untrusted peer does not.
 */
export interface AdapterOptions {
  readonly trustProxy?: (address: string | undefined) => boolean;
}
