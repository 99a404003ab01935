import type { App, AppServer } from '@nodicorn/adapters';
import type { QuarantineMessage } from '../protocol.js';
import type { AcceptMode } from '../sockets/accept-mode.js';
import { BACKLOG_DRAIN_MS } from '../sockets/listeners.js';
import { EXIT, NodicornError } from '../errors.js';

/** What the worker's main loop drives, whether the worker's own HTTP server or the App's. */
export interface WorkerServing {
  listen(): Promise<void>;
  drain(): Promise<void>;
  readonly openConnections: number;
  readonly served: number;
  readonly inflight: number;
  shed(count: number): void;
  quarantine(message: QuarantineMessage): void;
  othersKeepAccepting(): void;
  reopenLogs?(): void;
}

/**
 * An App that serves its own connections (App.serve, the proxy's TLS and HTTP/2 servers) on the
 * listening sockets this worker inherited. The master balances and quarantines by what the worker's
 * own HTTP server sees; here the App owns the connections, so those are left to it.
 */
export class AppServed implements WorkerServing {
  #server: AppServer | null = null;
  #othersServe = false;
  #onRetire: (() => void) | undefined;

  constructor(
    private readonly app: App & Required<Pick<App, 'serve'>>,
    private readonly listenFds: readonly number[],
    acceptMode: AcceptMode,
    private readonly gracefulTimeoutMs: number,
  ) {
    if (acceptMode !== 'workers') throw new NodicornError('ERR_WORKER_BOOT', `This app serves its own connections (App.serve) and needs the shared sockets: run it with --dispatch shared and an async worker class (got accept mode "${acceptMode}").`, EXIT.WORKER_BOOT_ERROR);
  }

  async listen(): Promise<void> {
    this.#server = await this.app.serve(this.listenFds.map((fd) => ({ fd })));
  }

  async drain(): Promise<void> {
    if (!this.#server) return;
    // The master's retire message and its TERM may arrive in either order: a moment's wait tells a
    // worker retired while the others serve on from one stopping with the whole server.
    if (!this.#othersServe) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, BACKLOG_DRAIN_MS);
        this.#onRetire = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    await this.#server.drain({ gracefulTimeoutMs: this.gracefulTimeoutMs, othersServe: this.#othersServe });
  }

  get openConnections(): number {
    return this.#server?.connections ?? 0;
  }

  get served(): number {
    return this.#server?.requests ?? 0;
  }

  get inflight(): number {
    return this.#server?.inflight ?? 0;
  }

  shed(): void {}

  quarantine(): void {}

  othersKeepAccepting(): void {
    this.#othersServe = true;
    this.#onRetire?.();
  }

  reopenLogs(): void {
    this.#server?.reopenLogs?.();
  }
}
