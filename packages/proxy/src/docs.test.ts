import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PROXY_ERROR_CODES } from './errors.js';
import { proxySettingsMarkdown } from './settings/help.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

describe('README', () => {
  it('holds the settings table generated from the definitions', () => {
    const table = /<!-- settings:start -->\n([\s\S]*?)\n<!-- settings:end -->/.exec(readme)?.[1];
    expect(table).toBe(proxySettingsMarkdown());
  });

  it('documents every error code', () => {
    for (const [code, meaning] of Object.entries(PROXY_ERROR_CODES)) expect(readme).toContain(`| \`${code}\` | ${meaning} |`);
  });
});
