/** How a setting's raw text (a flag value) or typed value (a config file) becomes a checked value. */
export interface ValueType<T> {
  /** Shown in --help: INT, SECONDS, SIZE, URL… */
  readonly meta: string;
  /** Parses one raw flag value; throws an Error whose message says what was expected. */
  parse(raw: string): T;
  /** Checks a value that came typed; returns what is wrong, or undefined. */
  check(value: unknown): string | undefined;
  /** Takes a config file's value: typed, or text parsed as the flag would be; throws like parse. */
  from(value: unknown): T;
}

/** One setting, declared once: its flags, type, default, checks and the line --help and the docs show. */
export interface SettingSpec<T, Section extends string = string> {
  /**
   * The name messages and docs use when it is not the config key (the server's are Gunicorn's
   * snake_case names); a config file takes it as well as the key.
   */
  readonly name?: string;
  /** The --help heading the setting is listed under. */
  readonly section?: Section;
  readonly flags: readonly string[];
  readonly type: ValueType<T>;
  /** The default, or a function of the environment (WEB_CONCURRENCY, PORT…) that computes it. */
  readonly default: T | ((env: NodeJS.ProcessEnv) => T);
  /** Shown in --help and the docs instead of the default's JSON. */
  readonly defaultDoc?: string;
  /** A flag that takes no value (`--daemon`); `--daemon=off` still works. */
  readonly boolean?: boolean;
  /** Given again, the value is appended rather than replaced (`--bind` twice binds twice). */
  readonly repeatable?: boolean;
  /** Extra check on the parsed value (ranges); returns what is wrong, or undefined. */
  validate?(value: T): string | undefined;
  /** One line for --help and the docs. */
  readonly doc: string;
}

/** A package's settings: config key to spec. */
export type SettingsList = Readonly<Record<string, SettingSpec<unknown>>>;

/** The resolved values of a settings list, key by key. */
export type SettingsOf<L> = { -readonly [K in keyof L]: L[K] extends SettingSpec<infer T> ? T : never };
