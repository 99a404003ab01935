// Renders results as markdown (bench/results/latest.md) and writes the JSON beside it.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** A cell: numbers to `digits` places (thousands unseparated, so tables diff cleanly), null as "—". */
export function cell(value, digits = 0, suffix = '') {
  if (value === null || value === undefined || (typeof value === 'number' && !Number.isFinite(value))) return '—';
  if (typeof value === 'number') return `${value.toFixed(digits)}${suffix}`;
  return String(value).replaceAll('|', '\\|');
}

/** A markdown table from column specs { key, label, digits?, suffix?, align? } and row objects. */
export function table(columns, rows) {
  const head = `| ${columns.map((c) => c.label).join(' | ')} |`;
  const rule = `| ${columns.map((c) => (c.align === 'left' ? '---' : '---:')).join(' | ')} |`;
  const body = rows.map((r) => `| ${columns.map((c) => cell(r[c.key], c.digits, c.suffix)).join(' | ')} |`);
  return [head, rule, ...body].join('\n');
}

const MARK = { met: '✅ met', missed: '❌ missed', 'not measured': '⏳ not measured' };

export function renderMarkdown(results) {
  const { meta, scenarios, targets } = results;
  const out = [
    '# nodicorn bench — latest results',
    '',
    `Command: \`${meta.command}\` · ${meta.date} · Node ${meta.node} · ${meta.cpus}× ${meta.cpuModel} · load: ${meta.loader}`,
    `${meta.rounds} rounds per scenario, contenders alternating within each round; ${meta.durationS} s of load per measurement after ${meta.warmupS} s of warm-up; ${meta.workers} workers everywhere. Req/s and latencies are medians over rounds, errors are summed, and **ratio** is the median of per-round ratios to the scenario's baseline. Read ratios, not absolute numbers: this machine is shared and noisy (1-minute load average ${meta.loadavg?.[0] ?? '?'} at the start, ${meta.loadavg?.[1] ?? '?'} at the end, on ${meta.cpus} CPUs; ${meta.elapsedS ?? '?'} s in all).`,
    '',
    '## Targets (issue 6)',
    '',
    table([
      { key: 'target', label: 'target', align: 'left' },
      { key: 'measuredText', label: 'measured', align: 'left' },
      { key: 'verdictText', label: 'verdict', align: 'left' },
    ], targets.map((t) => ({ ...t, verdictText: MARK[t.verdict] ?? t.verdict }))),
    '',
  ];
  for (const s of scenarios) {
    out.push(`## ${s.title}`, '', s.about, '');
    out.push(s.rows.length ? table(s.columns, s.rows) : `_${s.skipped ?? 'no contender available'}_`);
    if (s.notes?.length) out.push('', ...s.notes.map((n) => `- ${n}`));
    out.push('');
  }
  if (meta.absent.length) {
    out.push('## Not in this run', '', ...meta.absent.map((a) => `- ${a}`), '');
  }
  return out.join('\n');
}

export function writeResults(dir, results) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'latest.json'), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(join(dir, 'latest.md'), renderMarkdown(results));
}
