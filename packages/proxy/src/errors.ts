/**
 * Every error the proxy reports to a user, with a stable code, declared in one table (undici's
 * `lib/core/errors.js` model). The README's error table is checked against it by a test.
 */
export const PROXY_ERROR_CODES = {
  ERR_PROXY_SETTING: 'A proxy setting has a value of the wrong type, form or range.',
  ERR_PROXY_UNKNOWN_OPTION: 'The command line names an option `nodicorn proxy` does not have.',
  ERR_PROXY_CONFIG_FILE: 'The --config file could not be read, parsed or imported.',
  ERR_PROXY_TLS: 'A certificate or key could not be read, generated or used.',
  ERR_PROXY_LISTEN: 'A listener could not bind its address.',
  ERR_PROXY_WORKER: 'A proxy worker was started without the plan its master gives it, or with one that does not match its sockets.',
} as const;

export type ProxyErrorCode = keyof typeof PROXY_ERROR_CODES;

/** Exit codes as the server uses them: 2 for bad input the user must fix. */
export const PROXY_EXIT = { OK: 0, ERROR: 1, USAGE: 2 } as const;

export class ProxyError extends Error {
  constructor(
    readonly code: ProxyErrorCode,
    message: string,
    readonly exitCode: number = PROXY_EXIT.ERROR,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ProxyError';
  }
}

/** Bad flags, config values or config files: one line naming the setting and the fix, exit 2. */
export class ProxySettingError extends ProxyError {
  constructor(message: string, code: 'ERR_PROXY_SETTING' | 'ERR_PROXY_UNKNOWN_OPTION' | 'ERR_PROXY_CONFIG_FILE' = 'ERR_PROXY_SETTING') {
    super(code, message, PROXY_EXIT.USAGE);
    this.name = 'ProxySettingError';
  }
}
