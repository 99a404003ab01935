/** How a setting's raw text (flag value, env var) becomes a typed value, and how it is described. */
export interface SettingType<T> {
  /** Shown in --help and docs: INT, SECONDS, STRING… */
  readonly meta: string;
  /** Parses one raw value. Throws an Error whose message says what was expected. */
  parse(raw: string): T;
  /** Checks a value that came typed (config file); returns what is wrong, or undefined. */
  check(value: unknown): string | undefined;
}

export interface SettingSpec<T> {
  /** Gunicorn's snake_case name, used in messages and docs. */
  readonly name: string;
  readonly section: 'Server socket' | 'Worker processes' | 'Server mechanics' | 'Logging' | 'Process naming' | 'Security' | 'Config';
  readonly flags: readonly string[];
  readonly type: SettingType<T>;
  /** The default, or a function of the environment (WEB_CONCURRENCY, PORT…) that computes it. */
  readonly default: T | ((env: NodeJS.ProcessEnv) => T);
  /** A flag that takes no value (`--daemon`, `--check-config`). */
  readonly boolean?: boolean;
  /** Given again, the value is appended rather than replaced (`-b` twice binds twice). */
  readonly repeatable?: boolean;
  /** Extra check on the parsed value (ranges); returns what is wrong, or undefined. */
  readonly validate?: (value: T) => string | undefined;
  /** One line for --help and docs/settings.md. */
  readonly doc: string;
  /** Shown in the docs instead of a computed default. */
  readonly defaultDoc?: string;
}
