import { existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describeValue, fromNextDir, isNextDir, NotAnAppError, toApp, type AdapterOptions, type App } from '@nodicorn/adapters';
import { AppLoadError, EXIT } from '../errors.js';
import type { EntrySpec } from './entry-spec.js';
import { failureLocation, typescriptHint } from './import-failure.js';

const FILE_EXTENSIONS = ['', '.js', '.mjs', '.cjs', '.ts', '.mts', '.cts'];

function looksLikePath(module: string): boolean {
  return module.startsWith('.') || isAbsolute(module) || /\.[cm]?[jt]s$/.test(module);
}

/** Finds the file an entry's module names: a path relative to chdir, or a package resolved from chdir; or a Next.js app directory. */
export function resolveModule(module: string, chdir: string): string {
  const candidate = resolve(chdir, module);
  // A directory holding a Next.js app (a `.next` build or a next.config.*) is served by Next itself.
  if (isNextDir(candidate)) return candidate;
  for (const ext of FILE_EXTENSIONS) {
    const file = candidate + ext;
    if (existsSync(file) && statSync(file).isFile()) return file;
  }
  if (!looksLikePath(module)) {
    try {
      return createRequire(join(chdir, 'noop.js')).resolve(module);
    } catch {
      // fall through to the not-found error below
    }
  }
  throw new AppLoadError(
    'ERR_APP_NOT_FOUND',
    `App module "${module}" not found: looked for ${candidate}{,${FILE_EXTENSIONS.slice(1).join(',')}}${looksLikePath(module) ? '' : ' and a package of that name'} from ${chdir}. Check the APP argument and --chdir.`,
    EXIT.APP_LOAD_ERROR,
  );
}

/**
 * Imports the module an entry names and returns its App. Errors say which file, which export and what
 * was found; a module that throws on import is a boot failure (3), a missing or wrong export a load
 * failure (4), as the issue asks.
 */
export async function loadApp(spec: EntrySpec, chdir: string, options: AdapterOptions = {}): Promise<App> {
  const file = resolveModule(spec.module, chdir);
  if (isNextDir(file)) {
    if (spec.exportPath.join('.') !== 'default' || spec.args) {
      throw new AppLoadError('ERR_BAD_ENTRY', `${file} is a Next.js app directory, which has no exports to name: give the directory alone (e.g. nodicorn ${spec.module}).`, EXIT.APP_LOAD_ERROR);
    }
    return fromNextDir(file, options);
  }
  let namespace: Record<string, unknown>;
  try {
    namespace = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (err) {
    const typescript = typescriptHint(err, file);
    if (typescript) throw new AppLoadError('ERR_APP_IMPORT', typescript, EXIT.APP_LOAD_ERROR, { cause: err });
    const detail = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    throw new AppLoadError('ERR_APP_IMPORT', `App module ${file} threw while being imported: ${detail}${failureLocation(err, file)}`, EXIT.WORKER_BOOT_ERROR, { cause: err });
  }
  const exportName = spec.exportPath.join('.');
  let value: unknown = namespace;
  for (const key of spec.exportPath) {
    value = value !== null && (typeof value === 'object' || typeof value === 'function') ? (value as Record<string, unknown>)[key] : undefined;
    // A CommonJS module's exports arrive as `default`; let `app.cjs:app` find `module.exports.app`.
    if (value === undefined && key === spec.exportPath[0] && namespace.default && typeof namespace.default === 'object') {
      value = (namespace.default as Record<string, unknown>)[key];
    }
  }
  if (value === undefined) {
    const available = Object.keys(namespace).join(', ') || 'none';
    throw new AppLoadError(
      'ERR_APP_EXPORT',
      `App module ${file} has no export "${exportName}" (its exports: ${available}).`,
      EXIT.APP_LOAD_ERROR,
    );
  }
  if (spec.args) {
    if (typeof value !== 'function') {
      throw new AppLoadError('ERR_APP_FACTORY', `${file}:${exportName} is called as a factory but is ${describeValue(value)}.`, EXIT.APP_LOAD_ERROR);
    }
    try {
      value = await (value as (...args: unknown[]) => unknown)(...spec.args);
    } catch (err) {
      const detail = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      throw new AppLoadError('ERR_APP_FACTORY', `App factory ${file}:${exportName}() threw: ${detail}`, EXIT.WORKER_BOOT_ERROR, { cause: err });
    }
  }
  try {
    return toApp(value, options);
  } catch (err) {
    if (err instanceof NotAnAppError) {
      throw new AppLoadError('ERR_APP_EXPORT', `${file}:${exportName}${spec.args ? '()' : ''} is not an app: ${err.message}`, EXIT.APP_LOAD_ERROR);
    }
    throw err;
  }
}
