import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable, Writable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { encodeInto, type Encoder } from '../compress/encoders.js';
import { listFields, type Compression } from '../compress/policy.js';
import { sendError } from '../error-page.js';
import type { Exchange } from '../logging/access-log.js';
import type { PickContext, UpstreamGroup, UpstreamServer } from '../upstream/group.js';
import { dropRepeatedSingleValues, http2HasBody, isHttp2 } from '../http2/request.js';
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
  /** The client's address after trusted proxies (nginx realip's $remote_addr), for ip_hash. */
  readonly clientAddress: (req: IncomingMessage) => string;
  readonly defaultHost: string;
  /** On-the-fly compression (nginx gzip on), or null. */
  readonly compression: Compression | null;
  /** The error log, rate-limited: one line per failed try, as nginx's `upstream ... while ...`. */
  readonly errorLog: (message: string) => void;
  /** --tls-verify-client optional: X-SSL-Client-Verify and X-SSL-Client-S-DN go upstream. */
  readonly clientCertHeaders: boolean;
}

/** Methods safe to send twice (RFC 9110 §9.2.2); only these move on to the next server. */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS', 'TRACE']);
/** Failures before a connection existed: nothing reached the server. */
const CONNECT_ERRORS = new Set(['ECONNREFUSED', 'ENOENT', 'EACCES', 'ENOTSOCK', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT']);
/** A kept-alive connection the server closed as the request went out (the keep-alive race). */
const STALE_ERRORS = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED']);
const TIMEOUTS = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT']);
/**
 * A connection cut within this long of the request going out is a stale keep-alive race or a crash
 * that caught the request in passing, and the request is repeated once. Later, the request itself
 * is the likely cause (a spin the server killed at --timeout, a crash it triggers): repeating it
 * would take down the next server too (issue 12, point 4). The race is one round trip on a socket the
 * server already closed (well under 10 ms on loopback or a LAN); 250 ms covers that with room for
 * a loaded host while staying far below any request a server would time out (Gunicorn's minimum
 * useful --timeout is seconds).
 */
export const STALE_WINDOW_MS = 250;

/** What happens after a failed try: the next server, the same server again, or the error page. */
/** `same`: the next untried server, else the same one on a fresh connection. */
type Decision = { readonly retry: 'next' | 'same'; readonly why: string } | { readonly retry: false; readonly why: string };

/**
 * nginx's proxy_next_upstream for `error` (connect failures) plus the stale-connection rule above.
 * A body still being streamed from the client can never be sent twice; a buffered one can.
 */
export function retryDecision(code: string, method: string, body: 'none' | 'buffered' | 'streamed', elapsedMs: number, staleRetried: boolean): Decision {
  if (TIMEOUTS.has(code) && code !== 'UND_ERR_CONNECT_TIMEOUT') return { retry: false, why: 'not retried: upstream timed out' };
  if (!IDEMPOTENT.has(method)) return { retry: false, why: `not retried: ${method} is not idempotent` };
  if (body === 'streamed') return { retry: false, why: 'not retried: the request body was already streamed' };
  if (CONNECT_ERRORS.has(code)) return { retry: 'next', why: 'trying the next server' };
  if (!STALE_ERRORS.has(code)) return { retry: false, why: `not retried: ${code || 'error'} is not a connection failure` };
  if (staleRetried) return { retry: false, why: 'not retried: already retried once' };
  const ms = Math.round(elapsedMs);
  if (ms > STALE_WINDOW_MS) return { retry: false, why: `not retried: upstream closed after ${ms} ms` };
  return { retry: 'same', why: `retrying once on a fresh connection: upstream closed after ${ms} ms` };
}


type Body = Buffer | Readable | IncomingMessage | null;

/**
 * Forwards one request to an upstream group. Body-less requests go out at once; with request
 * buffering a body is read whole first (413 past max_body). Each attempt is an undici dispatch
 * with this object as its handler, the least machinery between the two sockets.
 */
export function forward(req: IncomingMessage, res: ServerResponse, ex: Exchange, group: UpstreamGroup, env: ForwardEnv, extraHeaders: readonly string[], dropAuthorization = false): void {
  const proto = (req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http';
  const headers = upstreamRequestHeaders(req, { proto, trusted: env.trusted, defaultHost: env.defaultHost, dropAuthorization, clientCertHeaders: env.clientCertHeaders });
  if (isHttp2(req) ? !http2HasBody(req) : !hasBody(req)) {
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
  if (req.complete) return sendError(res, 413);
  // HTTP/2: the answer ends this stream (RST_STREAM NO_ERROR tells the client to stop sending,
  // RFC 9113 §8.1); the connection and its other streams carry on.
  if (isHttp2(req)) {
    req.resume();
    return sendError(res, 413);
  }
  // Lingering close, as nginx's: answer with Connection: close, then half-close (FIN after the 413)
  // instead of Node's destroy-after-write, and keep reading and dropping what the client still
  // sends, so it reads the 413 rather than a reset. Past the time or byte budget the socket is cut.
  const socket = req.socket;
  let dropped = 0;
  const cut = () => socket.destroy();
  const timer = setTimeout(cut, LINGER_MS).unref();
  socket.destroySoon = () => socket.end();
  socket.on('data', (chunk: Buffer) => {
    if ((dropped += chunk.length) > LINGER_BYTES) cut();
  });
  socket.once('end', cut);
  socket.once('close', () => clearTimeout(timer));
  req.resume();
  sendError(res, 413, { close: true });
}

class Forwarding implements Dispatcher.DispatchHandler {
  #server: UpstreamServer | undefined;
  #tried: Set<UpstreamServer> | null = null;
  #staleRetried = false;
  #started = 0n;
  #abort: ((err?: Error) => void) | null = null;
  #sink: ResponseSink | null = null;
  #resume: (() => void) | null = null;
  /** The encoder in front of the client when the response is compressed; unbuffered ones flush per chunk. */
  #encoder: Encoder | null = null;
  #flushEach = false;
  #status = '';
  #lastError = 502;
  /** What ip_hash and sticky need, built only for the upstreams that use them. */
  readonly #context: PickContext | undefined;
  /** The server whose in-flight count this try holds (least_conn). */
  #holding: UpstreamServer | null = null;

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
    this.#context = group.sticky || group.balance === 'ip_hash' ? { clientAddress: env.clientAddress(req), cookie: req.headers.cookie } : undefined;
  }

  /** Sends the request to `server` (default: the next untried one), or answers with the last failure. */
  next(server = this.group.pick(this.#tried, Date.now(), this.#context)): void {
    if (!server) {
      sendError(this.res, this.#lastError);
      return;
    }
    this.#server = server;
    server.active++;
    this.#holding = server;
    this.#started = process.hrtime.bigint();
    const body = this.body;
    const payload: Body = body === null ? null : 'open' in body ? body.open() : body;
    server.pool.dispatch({ path: this.req.url!, method: this.req.method!, headers: this.headers, body: payload }, this);
  }

  #onClientClose = (): void => {
    this.#sink?.dispose();
    if (!this.res.writableFinished) this.#abort?.(new Error('client closed the connection'));
  };

  /** A try is over (answered, failed or abandoned): its server has one request fewer in flight. */
  #release(): void {
    if (this.#holding) this.#holding.active--;
    this.#holding = null;
  }

  /** One try's $upstream_addr / $upstream_status / $upstream_response_time, comma-joined as nginx does. */
  #record(status: string): void {
    const ex = this.ex;
    const time = (Number(process.hrtime.bigint() - this.#started) / 1e9).toFixed(3);
    const addr = this.#server!.address.label;
    ex.upstreamAddr = ex.upstreamAddr ? `${ex.upstreamAddr}, ${addr}` : addr;
    ex.upstreamStatus = ex.upstreamStatus ? `${ex.upstreamStatus}, ${status}` : status;
    ex.upstreamTime = ex.upstreamTime ? `${ex.upstreamTime}, ${time}` : time;
    // A compressed body's bytes are counted as the encoder sends them.
    if (this.#sink && !this.#encoder) ex.bytes = this.#sink.bytes;
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
    if (this.#context) {
      const pin = this.group.stickyCookie(this.#server!, this.#context);
      if (pin) headers.push('set-cookie', pin);
    }
    const buffering = !stream && (accelBuffering ?? this.env.proxyBuffering);
    const compression = this.env.compression;
    // Event streams are never eligible (policy.ts), so they stay identity and unbuffered.
    const chosen = compression && !stream ? compression.decide(this.req, statusCode, listFields(headers)) : null;
    if (isHttp2(this.req)) dropRepeatedSingleValues(headers);
    try {
      this.res.writeHead(statusCode, headers);
    } catch (err) {
      // A field HTTP/2 cannot carry that HTTP/1.1 did: the client sees a reset stream, as for
      // any response that cannot be completed, and the try is logged.
      this.#logTry(err as Error, 'response headers not valid for the client; stream reset');
      this.#abort?.(err as Error);
      this.res.destroy();
      return false;
    }
    // An event stream's headers go out now, not with the first event, or the client waits.
    if (!buffering) this.res.flushHeaders();
    let target: Writable = this.res;
    if (chosen) {
      const ex = this.ex;
      // Unbuffered means the app wants each chunk seen as it is sent: a sync flush per chunk, as
      // nginx's gzip filter flushes on every buffer of an unbuffered upstream.
      this.#flushEach = !buffering;
      this.#encoder = target = encodeInto(this.res, chosen.encoding, compression!.levels, chosen.text, chosen.length, !buffering, (n) => (ex.bytes += n));
    }
    this.#sink = new ResponseSink(target, {
      buffering,
      memory: this.env.bufferSize,
      maxFile: this.env.maxTempFileSize,
      resume: () => this.#resume?.(),
    });
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.res.destroyed) return true;
    const more = this.#sink!.write(chunk);
    if (this.#flushEach) this.#encoder!.flush();
    return more;
  }

  onComplete(): void {
    this.#release();
    this.#server!.succeeded();
    this.#record(this.#status);
    this.#sink!.end();
  }

  onError(err: Error): void {
    this.#release();
    if (this.#sink) {
      // Mid-body: the client has a status line already, so the only honest signal is a cut connection.
      this.#record(this.#status);
      this.#logTry(err, 'not retried: the response had started; client connection cut');
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
    const elapsedMs = Number(process.hrtime.bigint() - this.#started) / 1e6;
    this.#record(String(this.#lastError));
    if (CONNECT_ERRORS.has(code) || timeout) this.#server!.failed(Date.now());
    (this.#tried ??= new Set()).add(this.#server!);
    const body = this.body === null ? 'none' : 'open' in this.body ? 'buffered' : 'streamed';
    const decision = retryDecision(code, this.req.method!, body, elapsedMs, this.#staleRetried);
    // A stale-connection retry may go back to the same server: undici opens a new connection.
    const nextServer = decision.retry === false ? undefined : (this.group.pick(this.#tried, Date.now(), this.#context) ?? (decision.retry === 'same' ? this.#server : undefined));
    if (nextServer) {
      this.#logTry(err, `${decision.why} (${nextServer.address.label})`);
      if (decision.retry === 'same') this.#staleRetried = true;
      return this.next(nextServer);
    }
    this.#logTry(err, `${decision.retry ? 'no other server to try' : decision.why}; answered ${this.#lastError}`);
    sendError(this.res, this.#lastError);
  }

  /** nginx's `upstream prematurely closed connection ... upstream: "...", request: "..."`, one line per failed try. */
  #logTry(err: Error, outcome: string): void {
    const code = (err as NodeJS.ErrnoException).code;
    const tryNo = this.ex.upstreamStatus.split(',').length;
    this.env.errorLog(`upstream ${this.#server!.address.label} failed (${code ? `${code}: ` : ''}${err.message}) on try ${tryNo}, request: "${this.req.method} ${this.req.url} HTTP/${this.req.httpVersion}", client: ${this.req.socket.remoteAddress ?? '-'}; ${outcome}`);
  }
}
