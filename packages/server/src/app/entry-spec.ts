import { AppLoadError, EXIT } from '../errors.js';

/**
 * An APP entry spec, as Gunicorn's `module:variable` and `module:factory(args)`:
 * `app.js` (default export), `dist/app.js:app`, `dist/app.js:createApp()`, `mod:create('x', 3)`.
 */
export interface EntrySpec {
  readonly text: string;
  readonly module: string;
  /** Export name, possibly dotted (`server.app`); `default` when the spec names none. */
  readonly exportPath: readonly string[];
  /** Present when the spec calls the export as a factory. */
  readonly args?: readonly unknown[];
}

const SPEC = /^(?<module>.+?)(?::(?<name>[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*)(?<call>\((?<args>.*)\))?)?$/s;

function badEntry(text: string, why: string): AppLoadError {
  return new AppLoadError(
    'ERR_BAD_ENTRY',
    `Invalid APP "${text}": ${why}. Expected MODULE[:NAME] or MODULE:FACTORY(literal args), e.g. app.js:app or dist/app.js:createApp()`,
    EXIT.APP_LOAD_ERROR,
  );
}

export function parseEntrySpec(text: string): EntrySpec {
  const trimmed = text.trim();
  if (!trimmed) throw badEntry(text, 'it is empty');
  const match = SPEC.exec(trimmed);
  const groups = match?.groups;
  if (!groups?.module) throw badEntry(text, 'it could not be parsed');
  if (groups.module.endsWith(':')) throw badEntry(text, 'nothing follows the ":"');
  const exportPath = groups.name ? groups.name.split('.') : ['default'];
  if (groups.call === undefined) return { text: trimmed, module: groups.module, exportPath };
  let args: unknown[];
  try {
    args = parseLiteralArgs(groups.args ?? '');
  } catch (err) {
    throw badEntry(text, `its arguments are not literals (${(err as Error).message})`);
  }
  return { text: trimmed, module: groups.module, exportPath, args };
}

/**
 * Parses a factory's argument list. Only literals are accepted, as Gunicorn's `ast.literal_eval`:
 * JSON values, plus single-quoted strings for convenience on the command line.
 */
export function parseLiteralArgs(source: string): unknown[] {
  let json = '';
  for (let i = 0; i < source.length; i++) {
    const ch = source[i]!;
    if (ch === '"' || ch === "'") {
      let value = '';
      let j = i + 1;
      for (; j < source.length && source[j] !== ch; j++) {
        if (source[j] === '\\' && j + 1 < source.length) {
          const next = source[++j]!;
          value += next === 'n' ? '\n' : next === 't' ? '\t' : next;
        } else {
          value += source[j];
        }
      }
      if (j >= source.length) throw new Error('unterminated string');
      json += JSON.stringify(value);
      i = j;
    } else {
      json += ch;
    }
  }
  const parsed: unknown = JSON.parse(`[${json}]`);
  return parsed as unknown[];
}
