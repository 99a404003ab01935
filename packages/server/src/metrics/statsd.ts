import dgram from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { Logger } from '../logging/error-log.js';
import type { Settings } from '../settings/definitions.js';
import { COUNTED_LOG_LEVELS, type CountedLogLevel, type StatsdBatch } from './statsd-batch.js';
import { parseStatsdHost, type StatsdAddress } from './statsd-address.js';

/**
 * The largest datagram sent: several lines go in one, newline-separated (the statsd protocol allows
 * it), up to what fits an Ethernet MTU after IP and UDP headers, as statsd clients commonly cap it.
 */
export const MAX_DATAGRAM_BYTES = 1432;
/** Timer samples held while the statsd host cannot be reached yet; counters are summed, never dropped. */
const MAX_PENDING_DURATIONS = 4 * 250;

type StatsdSettings = Pick<Settings, 'statsdHost' | 'statsdPrefix' | 'dogstatsdTags'>;

/**
 * Gunicorn's prefix rule: the prefix and the metric name are joined with one dot (a trailing dot
 * the user wrote is not doubled).
 */
export function statsdPrefix(prefix: string): string {
  const bare = prefix.replace(/\.+$/, '');
  return bare ? `${bare}.` : '';
}

/** Splits lines into newline-joined datagrams of at most `max` bytes (a longer line goes alone). */
export function packDatagrams(lines: readonly string[], max = MAX_DATAGRAM_BYTES): Buffer[] {
  const out: Buffer[] = [];
  let current = '';
  for (const line of lines) {
    const joined = current ? `${current}\n${line}` : line;
    if (current && Buffer.byteLength(joined) > max) {
      out.push(Buffer.from(current));
      current = line;
    } else current = joined;
  }
  if (current) out.push(Buffer.from(current));
  return out;
}

/**
 * The server's statsd client, in the master. Workers batch what they counted into the `load`
 * message they send every 250 ms anyway; the master adds the batches up and sends the whole
 * server's lines once per STATSD_FLUSH_MS, so N workers never send N times and no worker holds a
 * socket. The names and line formats are Gunicorn's (gunicorn/instrument/statsd.py), so dashboards
 * and Datadog's Gunicorn integration read them unchanged.
 *
 * UDP, as Gunicorn: a slow or absent statsd never holds the server up. A send error is counted
 * (`sendErrors`) and otherwise ignored; nothing here throws into the master's loop.
 */
export class StatsdSink {
  readonly address: StatsdAddress;
  readonly #prefix: string;
  readonly #tags: string;
  #socket: dgram.Socket | null = null;
  #connecting: Promise<void> | null = null;
  #unreachableSaid = false;
  #closed = false;
  #requests = 0;
  #statuses = new Map<string, number>();
  #durations: { ms: number; rate: number }[] = [];
  #logs = new Map<CountedLogLevel, number>();
  sendErrors = 0;
  datagramsSent = 0;

  readonly #settings: StatsdSettings;
  /** Sends handed to the socket and not yet called back: close() waits for them. */
  #inFlight = 0;
  #closeWhenSent = false;

  constructor(
    settings: StatsdSettings & { statsdHost: string },
    private readonly log: Logger,
  ) {
    this.#settings = settings;
    const address = parseStatsdHost(settings.statsdHost);
    if (typeof address === 'string') throw new Error(address); // validated with the settings
    this.address = address;
    this.#prefix = statsdPrefix(settings.statsdPrefix);
    this.#tags = settings.dogstatsdTags ? `|#${settings.dogstatsdTags}` : '';
  }

  /** A sink for these settings, or null when --statsd-host is not set. */
  static for(settings: StatsdSettings, log: Logger): StatsdSink | null {
    return settings.statsdHost ? new StatsdSink({ ...settings, statsdHost: settings.statsdHost }, log) : null;
  }

  /** Whether `settings` would send the same lines to the same place. */
  sameAs(settings: StatsdSettings): boolean {
    return settings.statsdHost === this.#settings.statsdHost && settings.statsdPrefix === this.#settings.statsdPrefix && settings.dogstatsdTags === this.#settings.dogstatsdTags;
  }

  /** Adds one worker's batch. */
  add(batch: StatsdBatch): void {
    for (const [status, n] of Object.entries(batch.statuses)) {
      this.#requests += n;
      this.#statuses.set(status, (this.#statuses.get(status) ?? 0) + n);
    }
    const rate = batch.durationsMs.length / Math.max(1, batch.durationCount);
    for (const ms of batch.durationsMs) {
      if (this.#durations.length >= MAX_PENDING_DURATIONS) break;
      this.#durations.push({ ms, rate });
    }
    for (const level of COUNTED_LOG_LEVELS) {
      const n = batch.logs[level];
      if (n) this.#logs.set(level, (this.#logs.get(level) ?? 0) + n);
    }
  }

  /** Counts one of the master's own error-log lines. */
  countLog(level: CountedLogLevel): void {
    this.#logs.set(level, (this.#logs.get(level) ?? 0) + 1);
  }

  /** The lines for everything counted since the last flush, and the worker gauge. */
  lines(workers: number): string[] {
    const p = this.#prefix;
    const t = this.#tags;
    const lines: string[] = [];
    if (this.#requests > 0) lines.push(`${p}gunicorn.requests:${this.#requests}|c|@1.0${t}`);
    for (const [status, n] of this.#statuses) lines.push(`${p}gunicorn.request.status.${status}:${n}|c|@1.0${t}`);
    for (const { ms, rate } of this.#durations) lines.push(`${p}gunicorn.request.duration:${Number(ms.toFixed(3))}|ms${rate < 1 ? `|@${Number(rate.toFixed(4))}` : ''}${t}`);
    for (const [level, n] of this.#logs) lines.push(`${p}gunicorn.log.${level}:${n}|c|@1.0${t}`);
    lines.push(`${p}gunicorn.workers:${workers}|g${t}`);
    return lines;
  }

  /** Sends what was counted since the last flush; `workers` is the gauge's value now. */
  flush(workers: number): void {
    if (this.#closed) return;
    if (!this.#socket) {
      void this.#connect();
      return; // counts wait for the socket; the next flush sends them
    }
    const socket = this.#socket;
    const datagrams = packDatagrams(this.lines(workers));
    this.#requests = 0;
    this.#statuses.clear();
    this.#durations = [];
    this.#logs.clear();
    for (const datagram of datagrams) {
      this.#inFlight++;
      try {
        socket.send(datagram, (err) => {
          if (err) this.sendErrors++;
          else this.datagramsSent++;
          this.#sent();
        });
      } catch {
        this.sendErrors++;
        this.#sent();
      }
    }
  }

  #sent(): void {
    this.#inFlight--;
    if (this.#closeWhenSent && this.#inFlight === 0) this.close();
  }

  /** The master halts: the last counts go out, then the socket closes. */
  flushAndClose(workers: number): void {
    this.flush(workers);
    this.#closeWhenSent = true;
    if (this.#inFlight === 0) this.close();
  }

  /**
   * Resolves the host once and connects the UDP socket (so each send skips the lookup, and a statsd
   * that went away shows as ECONNREFUSED on the next sends, counted). A host that does not resolve
   * is said once and tried again at the next flush: an agent's name may appear after the server.
   */
  #connect(): Promise<void> {
    this.#connecting ??= (async () => {
      const { host, port } = this.address;
      try {
        const address = isIP(host) ? { address: host, family: isIP(host) } : await lookup(host);
        const socket = dgram.createSocket(address.family === 6 ? 'udp6' : 'udp4');
        socket.on('error', () => this.sendErrors++);
        socket.unref();
        await new Promise<void>((resolve, reject) => {
          socket.once('error', reject);
          socket.connect(port, address.address, () => {
            socket.off('error', reject);
            resolve();
          });
        });
        if (this.#closed) socket.close();
        else this.#socket = socket;
        if (this.#unreachableSaid) this.log.info(`statsd: sending to ${host}:${port} now`);
      } catch (err) {
        if (!this.#unreachableSaid) this.log.warning(`statsd: cannot send to ${host}:${port} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); counting on and trying again each second`);
        this.#unreachableSaid = true;
      } finally {
        this.#connecting = null;
      }
    })();
    return this.#connecting;
  }

  /** Connects now (the first flush then sends at once). */
  open(): Promise<void> {
    return this.#connect();
  }

  close(): void {
    this.#closed = true;
    try {
      this.#socket?.close();
    } catch {
      // already closed
    }
    this.#socket = null;
  }
}
