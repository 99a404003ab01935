import type { App, AppServer } from '@nodicorn/adapters';
import type { QuarantineMessage } from '../protocol.js';
import type { AcceptMode } from '../sockets/accept-mode.js';
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

  drain(): Promise<void> {
    return this.#server ? this.#server.drain(this.gracefulTimeoutMs) : Promise.resolve();
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

  othersKeepAccepting(): void {}

  reopenLogs(): void {
    this.#server?.reopenLogs?.();
  }
}
