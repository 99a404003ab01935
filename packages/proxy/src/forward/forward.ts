import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { sendError } from '../error-page.js';
import type { Exchange } from '../logging/access-log.js';
import type { UpstreamGroup, UpstreamServer } from '../upstream/group.js';
import { clientResponseHeaders, upstreamRequestHeaders } from './headers.js';
import { BodyTooLarge, bufferBody, hasBody, type BufferedBody } from './request-body.js';
import { ResponseSink } from './response-sink.js';

export interface ForwardEnv {
  readonly maxBody: number;
  readonly requestBuffering: boolean;
  readonly proxyBuffering: boolean;
  readonly bufferSize: number;
  readonly maxTempFileSize: number;
  readonly trusted: (address: string) => boolean;
  readonly defaultHost: string;
}

/** Methods safe to send twice (RFC 9110 §9.2.2); only these move on to the next server. */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS', 'TRACE']);
/** Failures before a connection existed: nothing reached the server. */
const CONNECT_ERRORS = new Set(['ECONNREFUSED', 'ENOENT', 'EACCES', 'ENOTSOCK', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT']);
/** A kept-alive connection the server closed as the request went out (the keep-alive race). */
const STALE_ERRORS = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED']);
const TIMEOUTS = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT']);

type Body = Buffer | Readable | IncomingMessage | null;

/**
 * Forwards one request to an upstream group. Body-less requests go out at once; with request
 * buffering a body is read whole first (413 past max_body). Each attempt is an undici dispatch
 * with this object as its handler, the least machinery between the two sockets.
 */
export function forward(req: IncomingMessage, res: ServerResponse, ex: Exchange, group: UpstreamGroup, env: ForwardEnv, extraHeaders: readonly string[]): void {
  const proto = (req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http';
  const headers = upstreamRequestHeaders(req, { proto, trusted: env.trusted, defaultHost: env.defaultHost });
  if (!hasBody(req)) {
    new Forwarding(req, res, ex, group, env, headers, null, extraHeaders).next();
    return;
  }
  const declared = Number(req.headers['content-length']);
  if (env.maxBody && declared > env.maxBody) return refuseBody(req, res);
  if (!env.requestBuffering) {
    if (Number.isFinite(declared)) headers.push('content-length', String(declared));
    new Forwarding(req, res, ex, group, env, headers, req, extraHeaders).next();
    return;
  }
  bufferBody(req, env.maxBody, env.bufferSize).then(
    (body) => {
      if (res.destroyed) return body.dispose();
      headers.push('content-length', String(body.length));
      res.once('close', () => body.dispose());
      new Forwarding(req, res, ex, group, env, headers, body, extraHeaders).next();
    },
    (err: unknown) => {
      if (err instanceof BodyTooLarge) refuseBody(req, res);
      else res.destroy();
    },
  );
}

/** How long, and how much, of a refused body is read and dropped after the 413 (nginx lingering_time). */
const LINGER_MS = 2000;
const LINGER_BYTES = 4 * 1024 * 1024;

/**
 * 413, then what the client is still sending is read and dropped for a while, as nginx's lingering
 * close does: closing on unread data makes the kernel send RST, and the client would see a reset
 * instead of the answer. Past the time or byte budget the connection is cut.
 */
function refuseBody(req: IncomingMessage, res: ServerResponse): void {
  sendError(res, 413);
  if (req.complete) return;
  let dropped = 0;
  const cut = () => req.destroy();
  const timer = setTimeout(cut, LINGER_MS).unref();
  req.on('data', (chunk: Buffer) => {
    if ((dropped += chunk.length) > LINGER_BYTES) cut();
  });
  req.once('end', () => {
    clearTimeout(timer);
  });
  req.once('close', () => clearTimeout(timer));
  req.resume();
}

class Forwarding implements Dispatcher.DispatchHandler {
  #server: UpstreamServer | undefined;
  #tried: Set<UpstreamServer> | null = null;
  #staleRetried = false;
  #started = 0n;
  #abort: ((err?: Error) => void) | null = null;
  #sink: ResponseSink | null = null;
  #resume: (() => void) | null = null;
  #status = '';
  #lastError = 502;

  constructor(
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly ex: Exchange,
    private readonly group: UpstreamGroup,
    private readonly env: ForwardEnv,
    private readonly headers: string[],
    private readonly body: BufferedBody | IncomingMessage | null,
    private readonly extraHeaders: readonly string[],
  ) {
    res.once('close', this.#onClientClose);
  }

  /** Sends the request to `server` (default: the next untried one), or answers with the last failure. */
  next(server = this.group.pick(this.#tried)): void {
    if (!server) {
      sendError(this.res, this.#lastError);
      return;
    }
    this.#server = server;
    this.#started = process.hrtime.bigint();
    const body = this.body;
    const payload: Body = body === null ? null : 'open' in body ? body.open() : body;
    server.pool.dispatch({ path: this.req.url!, method: this.req.method!, headers: this.headers, body: payload }, this);
  }

  #onClientClose = (): void => {
    this.#sink?.dispose();
    if (!this.res.writableFinished) this.#abort?.(new Error('client closed the connection'));
  };

  /** One try's $upstream_addr / $upstream_status / $upstream_response_time, comma-joined as nginx does. */
  #record(status: string): void {
    const ex = this.ex;
    const time = (Number(process.hrtime.bigint() - this.#started) / 1e9).toFixed(3);
    const addr = this.#server!.address.label;
    ex.upstreamAddr = ex.upstreamAddr ? `${ex.upstreamAddr}, ${addr}` : addr;
    ex.upstreamStatus = ex.upstreamStatus ? `${ex.upstreamStatus}, ${status}` : status;
    ex.upstreamTime = ex.upstreamTime ? `${ex.upstreamTime}, ${time}` : time;
    if (this.#sink) ex.bytes = this.#sink.bytes;
  }

  onConnect(abort: (err?: Error) => void): void {
    this.#abort = abort;
    if (this.res.destroyed) abort(new Error('client closed the connection'));
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void): boolean {
    if (statusCode < 200) return true;
    this.#resume = resume;
    this.#status = String(statusCode);
    const { headers, stream, accelBuffering } = clientResponseHeaders(rawHeaders);
    if (this.extraHeaders.length) headers.push(...this.extraHeaders);
    const buffering = !stream && (accelBuffering ?? this.env.proxyBuffering);
    this.res.writeHead(statusCode, headers);
    // An event stream's headers go out now, not with the first event, or the client waits.
    if (!buffering) this.res.flushHeaders();
    this.#sink = new ResponseSink(this.res, {
      buffering,
      memory: this.env.bufferSize,
      maxFile: this.env.maxTempFileSize,
      resume: () => this.#resume?.(),
    });
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.res.destroyed) return true;
    return this.#sink!.write(chunk);
  }

  onComplete(): void {
    this.#server!.succeeded();
    this.#record(this.#status);
    this.#sink!.end();
  }

  onError(err: Error): void {
    if (this.#sink) {
      // Mid-body: the client has a status line already, so the only honest signal is a cut connection.
      this.#record(this.#status);
      this.res.destroy();
      return;
    }
    if (this.res.destroyed) {
      this.#record('-');
      return;
    }
    const code = (err as NodeJS.ErrnoException).code ?? '';
    const timeout = TIMEOUTS.has(code);
    this.#lastError = timeout ? 504 : 502;
    this.#record(String(this.#lastError));
    const connectFailed = CONNECT_ERRORS.has(code);
    if (connectFailed || timeout) this.#server!.failed(Date.now());
    (this.#tried ??= new Set()).add(this.#server!);
    if (IDEMPOTENT.has(this.req.method!)) {
      // A connect failure sent nothing: any idempotent request may go to the next server. A stale
      // keep-alive connection may have taken part of the request, so only a body-less one is
      // repeated, once, on a fresh connection to the same server. Never after a streamed body.
      if (connectFailed && !(this.body && !('open' in this.body))) return this.next();
      if (STALE_ERRORS.has(code) && this.body === null && !this.#staleRetried) {
        this.#staleRetried = true;
        return this.next(this.#server);
      }
    }
    sendError(this.res, this.#lastError);
  }
}
