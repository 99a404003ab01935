import { write as writeAsync, writeSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { LogFile } from './error-log.js';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number) => String(n).padStart(2, '0');

/** The `%(t)s` atom: `[25/Nov/2026:07:44:46 +0000]`, as Gunicorn and Apache write it. */
export function accessTimestamp(date: Date): string {
  const offset = -date.getTimezoneOffset();
  const sign = offset >= 0 ? '+' : '-';
  const abs = Math.abs(offset);
  return `[${pad(date.getDate())}/${MONTHS[date.getMonth()]}/${date.getFullYear()}:${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())} ${sign}${pad(Math.floor(abs / 60))}${pad(abs % 60)}]`;
}

/** What one finished request contributes to its access-log line. */
export interface AccessRecord {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly start: Date;
  /** Duration in nanoseconds. */
  readonly durationNs: bigint;
  readonly bytesSent: number;
  readonly pid: number;
  readonly env?: NodeJS.ProcessEnv;
}

function header(value: string | string[] | number | undefined): string {
  if (value === undefined) return '-';
  return Array.isArray(value) ? value.join(', ') : String(value);
}

/** Gunicorn's access-log atoms (docs.gunicorn.org, "access_log_format"). */
export function accessAtoms(r: AccessRecord): (atom: string) => string {
  const { req, res } = r;
  const path = req.url ?? '/';
  const q = path.indexOf('?');
  const version = `HTTP/${req.httpVersion}`;
  const micros = r.durationNs / 1000n;
  return (atom) => {
    switch (atom) {
      case 'h': return req.socket.remoteAddress ?? '-';
      case 'l': return '-';
      case 'u': return '-';
      case 't': return accessTimestamp(r.start);
      case 'r': return `${req.method} ${path} ${version}`;
      case 'm': return req.method ?? '-';
      case 'U': return q < 0 ? path : path.slice(0, q);
      case 'q': return q < 0 ? '' : path.slice(q + 1);
      case 'H': return version;
      case 's': return String(res.statusCode);
      case 'B': return String(r.bytesSent);
      case 'b': return r.bytesSent ? String(r.bytesSent) : '-';
      case 'f': return header(req.headers.referer);
      case 'a': return header(req.headers['user-agent']);
      case 'T': return String(micros / 1_000_000n);
      case 'M': return String(micros / 1000n);
      case 'D': return String(micros);
      case 'L': return (Number(micros) / 1e6).toFixed(6);
      case 'p': return `<${r.pid}>`;
    }
    const braced = /^\{(.+)\}([ioe])$/.exec(atom);
    if (braced) {
      const name = braced[1]!.toLowerCase();
      if (braced[2] === 'i') return header(req.headers[name]);
      if (braced[2] === 'o') return header(res.getHeader(name));
      return (r.env ?? process.env)[braced[1]!] ?? '-';
    }
    return `%(${atom})s`;
  };
}

/** Renders a Gunicorn access_log_format (`%(h)s %(r)s …`), or a JSON object when format is `json`. */
export function formatAccessLine(format: string, record: AccessRecord): string {
  const atoms = accessAtoms(record);
  if (format === 'json') {
    return JSON.stringify({
      time: record.start.toISOString(),
      remote: atoms('h'),
      method: atoms('m'),
      path: atoms('U'),
      query: atoms('q'),
      protocol: atoms('H'),
      status: record.res.statusCode,
      bytes: record.bytesSent,
      duration_ms: Number(record.durationNs / 1000n) / 1000,
      referer: atoms('f'),
      user_agent: atoms('a'),
      pid: record.pid,
    });
  }
  return format.replace(/%\(([^()]+|\{[^}]*\}[ioe])\)s/g, (_, atom: string) => atoms(atom));
}

/**
 * Access-log lines are batched per event-loop turn and appended in one write, so logging costs one
 * syscall per batch rather than per request; exit flushes synchronously.
 */
export class AccessLog {
  #file: LogFile;
  #pending: string[] = [];
  #scheduled = false;
  #writing = false;
  constructor(
    target: string,
    private readonly onError: (err: NodeJS.ErrnoException) => void = () => undefined,
  ) {
    this.#file = new LogFile(target, 1);
  }

  append(line: string): void {
    this.#pending.push(line);
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => this.#flush());
    }
  }

  #flush(): void {
    this.#scheduled = false;
    if (this.#writing || this.#pending.length === 0) return;
    const chunk = this.#takePending();
    this.#writing = true;
    writeAsync(this.#file.fd, chunk, (err) => {
      this.#writing = false;
      if (err && !this.#reportedError) {
        // One line, not one per request: a full disk must not flood the error log or stop serving.
        this.#reportedError = true;
        this.onError(err);
      }
      if (this.#reopenWanted) this.reopen();
      if (this.#pending.length) this.#flush();
    });
  }
  #reportedError = false;
  #reopenWanted = false;

  /** The lines waiting to be written, as one chunk; the queue starts over. */
  #takePending(): string {
    const chunk = this.#pending.join('\n') + '\n';
    this.#pending = [];
    return chunk;
  }

  flushSync(): void {
    if (this.#pending.length === 0) return;
    const chunk = this.#takePending();
    try {
      writeSync(this.#file.fd, chunk);
    } catch {
      // serving goes on without the log
    }
  }

  reopen(): void {
    // Never close the descriptor under an async write still in flight; reopen once it lands.
    if (this.#writing) {
      this.#reopenWanted = true;
      return;
    }
    this.#reopenWanted = false;
    this.flushSync();
    this.#file.reopen();
    this.#reportedError = false;
  }
}
