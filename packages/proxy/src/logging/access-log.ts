import { createWriteStream, type WriteStream } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** What one request contributes to its access-log line beyond the request and response. */
export interface Exchange {
  /** process.hrtime.bigint() when the request arrived. */
  readonly start: bigint;
  /** The peer, read on arrival: by the time the line is written the socket may be gone. */
  readonly remote: string;
  /** Body bytes sent to the client when the response does not carry Content-Length. */
  bytes: number;
  /** nginx $upstream_addr, $upstream_status, $upstream_response_time; comma-separated per try. */
  upstreamAddr: string;
  upstreamStatus: string;
  upstreamTime: string;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number) => String(n).padStart(2, '0');

let stampSecond = -1;
let stamp = '';
/** nginx $time_local, `25/Nov/2026:07:44:46 +0000`, formatted once per second. */
export function timeLocal(now = Date.now()): string {
  const second = Math.floor(now / 1000);
  if (second !== stampSecond) {
    const d = new Date(now);
    const offset = -d.getTimezoneOffset();
    const abs = Math.abs(offset);
    stamp = `${pad(d.getDate())}/${MONTHS[d.getMonth()]}/${d.getFullYear()}:${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())} ${offset >= 0 ? '+' : '-'}${pad(Math.floor(abs / 60))}${pad(abs % 60)}`;
    stampSecond = second;
  }
  return stamp;
}

/** nginx escapes `"`, `\` and non-printable bytes in logged strings as \xHH. */
function escape(text: string | string[] | undefined): string {
  if (text === undefined) return '-';
  const s = Array.isArray(text) ? text.join(', ') : text;
  // Matching control bytes is the point here: they are what must not reach the log raw.
  // eslint-disable-next-line no-control-regex
  return /["\\\x00-\x1f\x7f-\uffff]/.test(s) ? s.replace(/["\\\x00-\x1f\x7f-\uffff]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`) : s;
}

/**
 * nginx's `combined` format followed by the timing fields most nginx setups add:
 * `$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer"
 * "$http_user_agent" rt=$request_time uaddr="$upstream_addr" us="$upstream_status" ut="$upstream_response_time"`.
 * A client that went away before the response finished is logged as 499, as nginx does.
 */
export function formatAccessLine(req: IncomingMessage, res: ServerResponse, ex: Exchange, endNs = process.hrtime.bigint()): string {
  const status = res.writableFinished ? res.statusCode : 499;
  const length = Number(res.getHeader('content-length'));
  const bytes = res.writableFinished && Number.isFinite(length) && req.method !== 'HEAD' ? length : ex.bytes;
  const rt = (Number(endNs - ex.start) / 1e9).toFixed(3);
  const addr = ex.remote.replace(/^::ffff:(?=\d+\.)/, '');
  return (
    `${addr} - - [${timeLocal()}] "${escape(`${req.method} ${req.url} HTTP/${req.httpVersion}`)}" ${status} ${bytes} ` +
    `"${escape(req.headers.referer)}" "${escape(req.headers['user-agent'])}" rt=${rt} uaddr="${ex.upstreamAddr || '-'}" us="${ex.upstreamStatus || '-'}" ut="${ex.upstreamTime || '-'}"\n`
  );
}

/**
 * Appends lines in batches, one write per event-loop turn, so logging costs one syscall per burst of
 * requests rather than one per request. `-` is stdout; `off` disables logging.
 */
export class AccessLogWriter {
  #pending: string[] = [];
  #scheduled = false;
  #stream: WriteStream | NodeJS.WriteStream | null;

  constructor(readonly target: string) {
    this.#stream = this.#open();
  }

  #open(): WriteStream | NodeJS.WriteStream | null {
    const stream = this.target === 'off' ? null : this.target === '-' ? process.stdout : createWriteStream(this.target, { flags: 'a' });
    stream?.on('error', () => {
      // A full disk or a closed stdout must never take the proxy down.
    });
    return stream;
  }

  /** USR1, as nginx: what is pending goes to the old file, then the path is opened afresh (logrotate moved the old one). */
  reopen(): void {
    if (this.target === 'off' || this.target === '-') return;
    this.flush();
    (this.#stream as WriteStream | null)?.end();
    this.#stream = this.#open();
  }

  get enabled(): boolean {
    return this.#stream !== null;
  }

  append(line: string): void {
    if (!this.#stream) return;
    this.#pending.push(line);
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(this.flush);
    }
  }

  flush = (): void => {
    this.#scheduled = false;
    // A destroyed stream is a broken stdout pipe (muteBrokenStdio): the lines have nowhere to go.
    if (this.#pending.length === 0 || !this.#stream || this.#stream.destroyed) return void (this.#pending = []);
    const text = this.#pending.join('');
    this.#pending = [];
    this.#stream.write(text);
  };

  async close(): Promise<void> {
    this.flush();
    const stream = this.#stream;
    if (stream && stream !== process.stdout) await new Promise<void>((r) => (stream as WriteStream).end(r));
  }
}
