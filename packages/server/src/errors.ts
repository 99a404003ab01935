/**
 * Every error nodicorn reports to a user, with a stable code. The table is the single place codes are
 * declared; `docs/errors.md` is checked against it by a test.
 */
export const ERROR_CODES = {
  ERR_BAD_SETTING: 'A setting has a value of the wrong type or out of range.',
  ERR_UNKNOWN_OPTION: 'The command line names an option nodicorn does not have.',
  ERR_BAD_BIND: 'A --bind address could not be parsed.',
  ERR_BIND_FAILED: 'A listening socket could not be bound after the retries.',
  ERR_BIND_NOT_SOCKET: 'A unix: bind path exists and is not a socket; nodicorn refuses to replace it.',
  ERR_BAD_ENTRY: 'The APP entry spec could not be parsed.',
  ERR_APP_NOT_FOUND: 'The APP module could not be found.',
  ERR_APP_IMPORT: 'The APP module threw while being imported.',
  ERR_APP_EXPORT: 'The APP module has no such export, or the export is not an app.',
  ERR_APP_FACTORY: 'The APP factory threw or returned something that is not an app.',
  ERR_APP_STARTUP: "The app's startup() threw.",
  ERR_PIDFILE_ALIVE: 'The pidfile names a process that is still running.',
  ERR_PIDFILE_WRITE: 'The pidfile could not be written.',
  ERR_USER: 'The --user or --group does not exist.',
  ERR_WORKER_BOOT: 'A worker exited before it became ready.',
  ERR_NO_APP: 'No APP was given on the command line.',
  ERR_FEATURE: 'This Node.js lacks a feature nodicorn needs.',
  ERR_HOOK: 'The onStarting hook threw, so the server did not start.',
  ERR_CONTROL: 'The control socket could not be reached or answered with an error.',
  ERR_CONTROL_DIR: 'The default control directory is a symlink, not owned by this user, or open to others.',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** Gunicorn's reserved exit codes: the master halts instead of respawning when a worker exits with one. */
export const EXIT = {
  OK: 0,
  ERROR: 1,
  USAGE: 2,
  WORKER_BOOT_ERROR: 3,
  APP_LOAD_ERROR: 4,
} as const;

export class NodicornError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly exitCode: number = EXIT.ERROR,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'NodicornError';
  }
}

export class SettingError extends NodicornError {
  constructor(message: string) {
    super('ERR_BAD_SETTING', message, EXIT.USAGE);
    this.name = 'SettingError';
  }
}

export class UsageError extends NodicornError {
  constructor(code: 'ERR_UNKNOWN_OPTION' | 'ERR_NO_APP' | 'ERR_BAD_BIND', message: string) {
    super(code, message, EXIT.USAGE);
    this.name = 'UsageError';
  }
}

/** A socket that could not be bound; `errno` is the system's name for why (EADDRINUSE, EACCES…). */
export class BindError extends NodicornError {
  constructor(
    readonly errno: string,
    message: string,
  ) {
    super('ERR_BIND_FAILED', message);
    this.name = 'BindError';
  }
}

/** An app that cannot be loaded. `exitCode` tells the master whether it failed to boot (3) or load (4). */
export class AppLoadError extends NodicornError {
  constructor(
    code: 'ERR_BAD_ENTRY' | 'ERR_APP_NOT_FOUND' | 'ERR_APP_IMPORT' | 'ERR_APP_EXPORT' | 'ERR_APP_FACTORY' | 'ERR_APP_STARTUP',
    message: string,
    exitCode: number,
    options?: { cause?: unknown },
  ) {
    super(code, message, exitCode, options);
    this.name = 'AppLoadError';
  }
}

/** One line for the user: the message, and for a non-nodicorn error, its class. */
export function describeError(err: unknown): string {
  if (err instanceof NodicornError) return err.message;
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return String(err);
}
