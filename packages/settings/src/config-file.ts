import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { extname } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { SettingsSchema } from './schema.js';
import type { SettingsList } from './spec.js';

/** The config file forms both commands read. */
export const CONFIG_FILE_EXTENSIONS = ['.json', '.mjs', '.js', '.cjs'] as const;

const describe = (err: unknown) => (err instanceof Error ? `${err.name}: ${err.message}` : String(err));

/** Reads a module fresh each time (HUP re-reads it), bypassing the ESM and CJS caches. */
async function importFresh(path: string): Promise<unknown> {
  if (path.endsWith('.cjs')) {
    const require = createRequire(path);
    delete require.cache[path];
    return require(path) as unknown;
  }
  const namespace = (await import(`${pathToFileURL(path).href}?load=${Date.now()}`)) as { default?: unknown };
  return namespace.default ?? namespace;
}

/**
 * What a config file at an absolute path holds: JSON, or a module's default export (else its named
 * exports); a default export that is a function is called (and awaited) for the object. The object
 * itself is checked by readConfigObject.
 */
export async function readConfigFile<L extends SettingsList>(schema: SettingsSchema<L>, path: string): Promise<unknown> {
  const { error, defaultConfigFiles } = schema.options;
  const fail = (what: string) => error('config-file', `Config file ${path}${what}`);
  if (!(CONFIG_FILE_EXTENSIONS as readonly string[]).includes(extname(path).toLowerCase())) {
    throw fail(`: must end in ${CONFIG_FILE_EXTENSIONS.join(', ').replace(/, (?=[^,]+$)/, ' or ')}.`);
  }
  let text: string | undefined;
  try {
    // JSON is read here; a module is read here too, so a missing or unreadable one says so plainly.
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw fail(` not found (from -c/--config). Check the path${defaultConfigFiles ? `, or drop -c to use ${defaultConfigFiles}` : ''}.`);
    throw fail(`: cannot be read (${code ?? describe(err)}); check -c/--config.`);
  }
  if (/\.json$/i.test(path)) {
    try {
      return JSON.parse(text) as unknown;
    } catch (err) {
      throw fail(`: is not valid JSON (${(err as Error).message}).`);
    }
  }
  try {
    const exported = await importFresh(path);
    return typeof exported === 'function' ? await (exported as () => unknown)() : exported;
  } catch (err) {
    throw fail(`: could not be loaded: ${describe(err)}`);
  }
}
