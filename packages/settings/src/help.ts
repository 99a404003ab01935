import type { SettingsSchema } from './schema.js';
import type { SettingSpec, SettingsList } from './spec.js';

/** The default as --help and the docs show it: its doc, "none" for an empty list, else its JSON. */
export function describeDefault(spec: SettingSpec<unknown>): string {
  if (spec.defaultDoc !== undefined) return spec.defaultDoc;
  return Array.isArray(spec.default) && spec.default.length === 0 ? 'none' : JSON.stringify(spec.default);
}

/** One setting's --help line: its flags and value, its doc, its default (unless the doc states it: `[default 1m]`). */
export function helpLine(spec: SettingSpec<unknown>): string {
  const usage = spec.flags.join(', ') + (spec.boolean ? '' : ` ${spec.type.meta}`);
  return `  ${usage.padEnd(34)} ${spec.doc}${spec.doc.includes('[default') ? '' : ` [default: ${describeDefault(spec)}]`}`;
}

/**
 * The options part of a command's --help, one line per setting that has a flag, under its section's
 * heading when the list has sections.
 */
export function settingsHelp<L extends SettingsList>(schema: SettingsSchema<L>): string {
  const sections = new Map<string | undefined, string[]>();
  for (const key of schema.keys) {
    const spec = schema.list[key]!;
    if (spec.flags.length === 0) continue;
    sections.set(spec.section, [...(sections.get(spec.section) ?? []), helpLine(spec)]);
  }
  return [...sections].map(([section, lines]) => (section === undefined ? lines.join('\n') : `${section}:\n${lines.join('\n')}`)).join('\n\n');
}

/** `code`, as a markdown cell shows it. */
export const code = (text: string) => `\`${text}\``;

/** A markdown table; a `|` inside a cell is escaped so it stays one cell. */
export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/** The flags cell of a docs table: each flag as code. */
export const flagsCell = (spec: SettingSpec<unknown>) => spec.flags.map(code).join(', ');
