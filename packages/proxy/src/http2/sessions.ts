import { constants, type Http2SecureServer, type ServerHttp2Session } from 'node:http2';

export interface SessionLimits {
  /** An HTTP/2 connection with no open stream for this long gets GOAWAY (nginx keepalive_timeout). */
  readonly idleTimeoutMs: number;
  /** Streams the client may have reset within `resetWindowMs` before the connection is cut. */
  readonly maxResets: number;
  readonly resetWindowMs: number;
}

/** How long a connection cut for abuse has to go after its GOAWAY before it is destroyed. */
const CUT_AFTER_MS = 1000;

interface SessionState {
  streams: number;
  windowStart: number;
  resets: number;
  /** Already being closed for abuse. */
  cut: boolean;
}

/**
 * The HTTP/2 connections of one https listener: what `server.close()` does not do for them on
 * Node 20 (send GOAWAY so in-flight streams finish and new ones are refused), an idle timeout that
 * spares connections with open streams, and the rapid-reset defence.
 *
 * Rapid reset (CVE-2023-44487): a client opens a stream and cancels it at once, in a loop. Reset
 * streams no longer count against max_concurrent_streams, so the limit never bites while the proxy
 * starts (and forwards) every one of them. nginx answered by bounding the streams processed per
 * loop iteration; here the resets themselves are counted per connection, and past the limit the
 * connection gets GOAWAY ENHANCE_YOUR_CALM and is destroyed. nghttp2's own limit (a burst of 1000,
 * then 33/s) stays as the backstop.
 */
export class Http2Sessions {
  readonly #open = new Map<ServerHttp2Session, SessionState>();

  constructor(
    server: Http2SecureServer,
    private readonly limits: SessionLimits,
    private readonly onAbuse: (peer: string, resets: number) => void,
    private readonly now: () => number = Date.now,
  ) {
    server.on('session', this.#track);
    // A broken connection (bad frames, a peer that vanished) ends that session only.
    server.on('sessionError', () => {});
  }

  get size(): number {
    return this.#open.size;
  }

  /** Graceful stop: GOAWAY on every connection; streams already opened run to completion. */
  goAway(): void {
    for (const session of this.#open.keys()) if (!session.closed) session.close();
  }

  /** Past the graceful timeout: whatever is still open is cut. */
  destroyAll(): void {
    for (const session of this.#open.keys()) session.destroy();
  }

  #track = (session: ServerHttp2Session): void => {
    const state: SessionState = { streams: 0, windowStart: this.now(), resets: 0, cut: false };
    this.#open.set(session, state);
    session.once('close', () => this.#open.delete(session));
    // The timer restarts on every frame; when it fires while a stream waits on a slow upstream the
    // connection is not idle, and the next frame arms it again.
    session.setTimeout(this.limits.idleTimeoutMs, () => {
      if (state.streams === 0 && !session.closed) session.close();
    });
    session.on('stream', (stream) => {
      state.streams++;
      stream.once('close', () => {
        state.streams--;
        if (stream.rstCode === constants.NGHTTP2_NO_ERROR || stream.rstCode === undefined) return;
        this.#countReset(session, state);
      });
    });
  };

  #countReset(session: ServerHttp2Session, state: SessionState): void {
    const now = this.now();
    if (now - state.windowStart > this.limits.resetWindowMs) {
      state.windowStart = now;
      state.resets = 0;
    }
    if (++state.resets <= this.limits.maxResets || state.cut) return;
    state.cut = true;
    this.onAbuse(session.socket?.remoteAddress ?? '-', state.resets);
    // close() first: on Node 20 a bare destroy (or goaway then destroy) from here left the GOAWAY
    // unsent and the peer unaware; a graceful close flushes it, then ENHANCE_YOUR_CALM says why.
    // A client that ignores both is cut a second later.
    session.close();
    session.goaway(constants.NGHTTP2_ENHANCE_YOUR_CALM);
    setTimeout(() => session.destroy(), CUT_AFTER_MS).unref();
  }
}
