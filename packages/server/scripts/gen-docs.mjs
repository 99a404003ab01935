// Writes docs/settings.md from the settings list (run after build).
import { writeFileSync } from 'node:fs';
import { settingsMarkdown } from '../dist/settings/help.js';

writeFileSync(new URL('../../../docs/settings.md', import.meta.url), settingsMarkdown());
