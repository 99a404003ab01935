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
 * A closed stdout/stderr pipe (`nodicorn proxy 2>&1 | head -c 10`) makes every later write fail
 * with EPIPE. Unhandled, that error re-enters the error log, which writes to the same broken pipe:
 * a 100% CPU loop that never reaches the TERM handler. A broken stdio stream is muted instead, as
 * nginx carries on when its log descriptor goes away.
 */
export function guardStdio(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', () => {
      broken.add(stream);
      stream.destroy();
    });
  }
}
const broken = new Set<NodeJS.WriteStream>();
export const stdioWritable = (stream: NodeJS.WriteStream): boolean => !broken.has(stream) && !stream.destroyed;

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
