import { closeSync, openSync, writeSync } from 'node:fs';
import type { LogLevel } from '../settings/definitions.js';
import type { CountedLogLevel } from '../metrics/statsd-batch.js';

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warning: 30, error: 40, critical: 50 };

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** Gunicorn's error-log timestamp: `2026-11-25 07:44:46 +0000`. */
export function logTimestamp(date: Date): string {
  const offset = -date.getTimezoneOffset();
  const sign = offset >= 0 ? '+' : '-';
  const abs = Math.abs(offset);
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ` +
    `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())} ${sign}${pad(Math.floor(abs / 60))}${pad(abs % 60)}`
  );
}

/** One error-log line in Gunicorn's format: `[time] [pid] [LEVEL] message`. */
export function formatErrorLine(date: Date, pid: number, level: LogLevel, message: string): string {
  return `[${logTimestamp(date)}] [${pid}] [${level.toUpperCase()}] ${message}\n`;
}

/**
 * A file that is reopened by path on USR1 (as logrotate expects) and written with synchronous
 * O_APPEND writes, so lines from the master and every worker interleave whole and survive a crash.
 */
export class LogFile {
  #fd: number;
  #owned: boolean;
  constructor(
    readonly target: string,
    readonly stdFd: 1 | 2,
  ) {
    [this.#fd, this.#owned] = this.#open();
  }

  #open(): [number, boolean] {
    if (this.target === '-') return [this.stdFd, false];
    return [openSync(this.target, 'a', 0o644), true];
  }

  get fd(): number {
    return this.#fd;
  }

  write(text: string): void {
    try {
      writeSync(this.#fd, text);
    } catch {
      // A full disk or a closed stderr must never take the server down with it.
    }
  }

  reopen(): void {
    const [fd, owned] = this.#open();
    if (this.#owned) closeSync(this.#fd);
    [this.#fd, this.#owned] = [fd, owned];
  }

  close(): void {
    if (this.#owned) closeSync(this.#fd);
    this.#owned = false;
  }
}

export class ErrorLog {
  #file: LogFile;
  #rank: number;
  constructor(
    target: string,
    level: LogLevel,
    private readonly pid = process.pid,
  ) {
    this.#file = new LogFile(target, 2);
    this.#rank = RANK[level];
  }

  /**
   * With --statsd-host: told of every warning, error, critical and exception line, whatever the
   * --log-level (Gunicorn's statsd logger counts them before its level filter too).
   */
  onCounted: ((level: CountedLogLevel) => void) | undefined;

  log(level: LogLevel, message: string): void {
    if (this.onCounted && RANK[level] >= RANK.warning) this.onCounted(level as CountedLogLevel);
    this.#write(level, message);
  }

  #write(level: LogLevel, message: string): void {
    if (RANK[level] < this.#rank) return;
    this.#file.write(formatErrorLine(new Date(), this.pid, level, message));
  }
  /** A line written as is: a worker's captured stdout or stderr (capture_output), as Gunicorn does. */
  raw(line: string): void {
    this.#file.write(line.endsWith('\n') ? line : `${line}\n`);
  }
  debug = (message: string) => this.log('debug', message);
  info = (message: string) => this.log('info', message);
  warning = (message: string) => this.log('warning', message);
  error = (message: string) => this.log('error', message);
  critical = (message: string) => this.log('critical', message);
  /** An error the code did not expect (a handler threw): an ERROR line, counted as gunicorn.log.exception as Gunicorn's log.exception is. */
  exception = (message: string) => {
    this.onCounted?.('exception');
    this.#write('error', message);
  };

  reopen(): void {
    this.#file.reopen();
  }
  close(): void {
    this.#file.close();
  }
}

export type Logger = Pick<ErrorLog, 'debug' | 'info' | 'warning' | 'error' | 'critical' | 'exception'>;
