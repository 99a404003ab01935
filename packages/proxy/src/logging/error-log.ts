import { stdioWritable } from '@nodicorn/settings';

/** Gunicorn's error-log line, `[2026-11-25 07:44:46 +0000] [pid] [INFO] message`, on stderr. */
export interface ProxyLogger {
  info(message: string): void;
  warning(message: string): void;
  error(message: string): void;
}

const pad = (n: number) => String(n).padStart(2, '0');

function timestamp(d: Date): string {
  const offset = -d.getTimezoneOffset();
  const abs = Math.abs(offset);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())} ${offset >= 0 ? '+' : '-'}${pad(Math.floor(abs / 60))}${pad(abs % 60)}`;
}

export function createLogger(write: (text: string) => void = (t) => void (stdioWritable(process.stderr) && process.stderr.write(t))): ProxyLogger {
  const line = (level: string) => (message: string) => write(`[${timestamp(new Date())}] [${process.pid}] [${level}] ${message}\n`);
  return { info: line('INFO'), warning: line('WARNING'), error: line('ERROR') };
}

/**
 * At most `perSecond` lines a second, then one "suppressed N" line when the next second starts, so
 * a dead upstream under load (90 000 502s) explains itself without flooding the disk.
 */
export function rateLimited(write: (message: string) => void, perSecond: number, now: () => number = Date.now): (message: string) => void {
  let windowStart = 0;
  let used = 0;
  let suppressed = 0;
  return (message) => {
    const t = now();
    if (t - windowStart >= 1000) {
      if (suppressed) write(`suppressed ${suppressed} similar upstream error line(s) in the last second`);
      [windowStart, used, suppressed] = [t, 0, 0];
    }
    if (used++ < perSecond) write(message);
    else suppressed++;
  };
}
