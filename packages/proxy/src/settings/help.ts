import { PROXY_SETTING_KEYS, PROXY_SETTINGS, type ProxySettingSpec } from './definitions.js';

function describeDefault(spec: ProxySettingSpec<unknown>): string {
  return Array.isArray(spec.default) && spec.default.length === 0 ? 'none' : JSON.stringify(spec.default);
}

/** The options part of `nodicorn proxy --help`, derived from the settings list. */
export function proxyHelp(): string {
  return PROXY_SETTING_KEYS.map((key) => {
    const spec = PROXY_SETTINGS[key] as ProxySettingSpec<unknown>;
    const usage = spec.flags.join(', ') + (spec.boolean ? '' : ` ${spec.type.meta}`);
    return `  ${usage.padEnd(34)} ${spec.doc}${spec.doc.includes('[default') ? '' : ` [default: ${describeDefault(spec)}]`}`;
  }).join('\n');
}

/** The README's settings table, from the same list; a test keeps the README in step. */
export function proxySettingsMarkdown(): string {
  const rows = PROXY_SETTING_KEYS.map((key) => {
    const spec = PROXY_SETTINGS[key] as ProxySettingSpec<unknown>;
    const cell = (s: string) => s.replace(/\|/g, '\\|');
    return `| \`${key}\` | ${spec.flags.map((f) => `\`${f}\``).join(', ')} | ${cell(describeDefault(spec))} | ${cell(spec.doc)} |`;
  });
  return ['| config key | flags | default | description |', '| --- | --- | --- | --- |', ...rows].join('\n');
}
