import type { ServerStatus } from './protocol.js';

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

export function formatDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ').trimEnd()).join('\n');
}

/** `nodicorn status`: the master line, then a table of workers. */
export function formatStatus(status: ServerStatus): string {
  const head = `${status.name}: master ${status.pid}, ${status.state}, up ${formatDuration(status.uptimeMs)}, ${status.workers.length}/${status.desiredWorkers} workers, ${status.restarts} restarts\n  ${status.listeners.join('  ')}`;
  const rows = [['  WORKER', 'PID', 'STATE', 'REQUESTS', 'RSS', 'HEARTBEAT', 'AGE']];
  for (const w of status.workers) {
    rows.push([`  #${w.id}`, String(w.pid), w.state, String(w.requests), mb(w.rss), `${(w.heartbeatAgeMs / 1000).toFixed(1)}s ago`, formatDuration(w.ageMs)]);
  }
  return `${head}\n${table(rows)}\n`;
}
