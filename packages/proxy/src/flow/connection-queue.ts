import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

/**
 * Parsed-but-unstarted requests one connection may hold; past it the proxy stops reading the
 * socket (back-pressure) rather than erroring, so a pipelining client costs a bounded queue.
 */
export const PIPELINE_DEPTH = 16;

/** One request the connection has parsed: start it, or, if the connection dies first, give it up. */
export interface Admitted {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  run(): void;
  /** The client went away before this one started: log it (499) and release it. */
  abandon(): void;
}

interface Connection {
  active: Admitted | null;
  readonly waiting: Admitted[];
  /** A response closed the connection, or the client did: nothing more on it runs. */
  done: boolean;
  paused: boolean;
  /** A parse error's answer, held until the requests parsed before it have been answered. */
  rejection: string | null;
}

const connections = new WeakMap<Duplex, Connection>();

/**
 * Serves one exchange per client connection at a time, in order, as nginx does. Node's HTTP server
 * emits 'request' for every pipelined request it parses and only queues their responses, so without
 * this 600 pipelined requests ran upstream at once; and it emits no 'close' for a queued response
 * whose connection dies, so the queue is tracked here and released on the socket's 'close'.
 */
export function admit(exchange: Admitted): void {
  const socket = exchange.req.socket;
  let c = connections.get(socket);
  if (!c) {
    const conn: Connection = { active: null, waiting: [], done: false, paused: false, rejection: null };
    connections.set(socket, conn);
    socket.once('close', () => abandonAll(conn));
    c = conn;
  }
  // After a response with `Connection: close` (a rejection, a draining proxy) nothing parsed
  // behind it may run (RFC 9112 §9.6; Gunicorn and nginx read no further).
  if (c.done) return;
  if (c.active) {
    c.waiting.push(exchange);
    if (!c.paused && c.waiting.length >= PIPELINE_DEPTH) {
      c.paused = true;
      socket.pause();
    }
    return;
  }
  start(c, exchange);
}

function abandonAll(c: Connection): void {
  c.done = true;
  for (const w of c.waiting.splice(0)) w.abandon();
}

function start(c: Connection, exchange: Admitted): void {
  c.active = exchange;
  // 'close' follows 'finish' (Node emits it a tick after handing the socket to the next response)
  // and also fires when the socket dies mid-response.
  exchange.res.once('close', () => {
    c.active = null;
    const res = exchange.res;
    // Cut mid-response (the client went away, whichever 'close' Node emits first): the queued
    // ones were never answered. Ended by a closing response: they were never meant to run.
    if (!res.writableFinished) return abandonAll(c);
    // `_last` is Node's own mark for a response that ends the connection (a `Connection: close`
    // the proxy wrote, or a client that asked for one); shouldKeepAlive alone misses the former.
    if (!res.shouldKeepAlive || (res as { _last?: boolean })._last) c.done = true;
    if (c.done) {
      c.waiting.length = 0;
      return;
    }
    const next = c.waiting.shift();
    if (c.paused && c.waiting.length < PIPELINE_DEPTH) {
      c.paused = false;
      exchange.req.socket.resume();
    }
    if (next) return start(c, next);
    if (c.rejection !== null) reject(exchange.req.socket, c.rejection);
  });
  exchange.run();
}

function reject(socket: Duplex, text: string): void {
  socket.end(text, () => socket.destroy());
}

/**
 * Answers a parse error on `socket` (Node's 'clientError'): at once when nothing is in progress,
 * otherwise after the requests parsed before the bad one, so the answer never lands inside another
 * response. Either way nothing after it runs.
 */
export function rejectConnection(socket: Duplex, text: string): void {
  const c = connections.get(socket);
  if (!c || (!c.active && c.waiting.length === 0)) return reject(socket, text);
  // The error is in the body (or trailers) of the exchange in progress: it will never complete,
  // so answer now if nothing of its response went out, else cut the connection.
  if (c.active && !c.active.req.complete) {
    c.done = true;
    c.waiting.length = 0;
    return c.active.res.headersSent ? void socket.destroy() : reject(socket, text);
  }
  c.rejection = text;
}
