import type { ServerStatus } from './protocol.js';

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

export function formatDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** Every field of a status as the types promise and printable, whatever the socket sent. */
function sanitiseStatus(s: ServerStatus): ServerStatus {
  const n = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
  return {
    name: printable(s.name),
    pid: n(s.pid),
    state: printable(s.state) as ServerStatus['state'],
    uptimeMs: n(s.uptimeMs),
    desiredWorkers: n(s.desiredWorkers),
    restarts: n(s.restarts),
    listeners: (Array.isArray(s.listeners) ? s.listeners : []).map(printable),
    workers: (Array.isArray(s.workers) ? s.workers : []).map((w) => ({ id: n(w.id), pid: n(w.pid), state: printable(w.state) as typeof w.state, requests: n(w.requests), rss: n(w.rss), heartbeatAgeMs: n(w.heartbeatAgeMs), ageMs: n(w.ageMs) })),
  };
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ').trimEnd()).join('\n');
}

/**
 * What a control socket answered is printed to a terminal: C0 controls, DEL and C1 controls (ESC
 * sequences could rewrite the screen or the title) are shown as \uXXXX, never sent raw.
 */
export function printable(text: unknown): string {
  // eslint-disable-next-line no-control-regex
  return String(text).replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** `nodicorn status`: the master line, then a table of workers. */
export function formatStatus(raw: ServerStatus): string {
  const status = sanitiseStatus(raw);
  const head = `${status.name}: master ${status.pid}, ${status.state}, up ${formatDuration(status.uptimeMs)}, ${status.workers.length}/${status.desiredWorkers} workers, ${status.restarts} restarts\n  ${status.listeners.join('  ')}`;
  const rows = [['  WORKER', 'PID', 'STATE', 'REQUESTS', 'RSS', 'HEARTBEAT', 'AGE']];
  for (const w of status.workers) {
    rows.push([`  #${w.id}`, String(w.pid), w.state, String(w.requests), mb(w.rss), `${(w.heartbeatAgeMs / 1000).toFixed(1)}s ago`, formatDuration(w.ageMs)]);
  }
  return `${head}\n${table(rows)}\n`;
}
