import { defineSettings, type SchemaOptions } from '../schema.js';
import type { SettingSpec } from '../spec.js';
import { atLeast, booleanType, choiceType, intType, listType, optionalStringType, secondsType, sizeType, stringType } from '../value-types.js';

/** A problem the kernel reported, kept with its kind so tests can check both. */
export class FixtureError extends Error {
  constructor(
    readonly problem: string,
    message: string,
  ) {
    super(message);
  }
}

const setting = <T>(spec: SettingSpec<T>): SettingSpec<T> => spec;

/** A small list with one of each kind of setting, as a package declares its own. */
export const LIST = {
  workers: setting<number>({ name: 'workers', section: 'Workers', flags: ['-w', '--workers'], type: intType, default: (env) => Number(env.WEB_CONCURRENCY ?? 1), defaultDoc: '$WEB_CONCURRENCY or 1', validate: atLeast(1), doc: 'Worker processes.' }),
  timeout: setting<number>({ name: 'timeout', section: 'Workers', flags: ['-t', '--timeout'], type: secondsType, default: 30, doc: 'Seconds a worker may be silent.' }),
  maxBody: setting<number>({ name: 'max_body', section: 'Limits', flags: ['--max-body'], type: sizeType, default: 1024, doc: 'Largest body. [default 1k]' }),
  bind: setting<string[]>({ name: 'bind', section: 'Workers', flags: ['-b', '--bind'], type: { ...listType, meta: 'ADDRESS' }, repeatable: true, default: [], doc: 'Where to listen.' }),
  daemon: setting<boolean>({ name: 'daemon', section: 'Limits', flags: ['-D', '--daemon'], type: booleanType, boolean: true, default: false, doc: 'Run in the background.' }),
  gzip: setting<boolean>({ name: 'gzip', section: 'Limits', flags: ['--gzip'], type: booleanType, default: false, doc: 'Compress responses.' }),
  logLevel: setting<'info' | 'debug'>({ name: 'log_level', section: 'Limits', flags: ['--log-level'], type: choiceType(['info', 'debug'] as const), default: 'info', doc: 'How much to log.' }),
  pidfile: setting<string | null>({ name: 'pidfile', section: 'Limits', flags: ['-p', '--pid'], type: optionalStringType, default: null, doc: 'Pid file.' }),
  config: setting<string | null>({ name: 'config', section: 'Limits', flags: ['-c', '--config'], type: optionalStringType, default: null, doc: 'Config file.' }),
  app: setting<string>({ name: 'wsgi_app', section: 'Limits', flags: [], type: { ...stringType, meta: 'APP' }, default: '', doc: 'The app.' }),
} as const;

export const schemaOf = (options: Partial<SchemaOptions> = {}) =>
  defineSettings(LIST, { command: 'tool', error: (problem, message) => new FixtureError(problem, message), commandFlags: ['-h', '--help'], positionals: true, ...options });

/** The error a call throws, for checking its kind and message together. */
export function thrown(fn: () => unknown): FixtureError {
  try {
    fn();
  } catch (err) {
    return err as FixtureError;
  }
  throw new Error('expected it to throw');
}
