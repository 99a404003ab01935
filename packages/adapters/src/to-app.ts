import type { AdapterOptions, App, RequestListener } from './app.js';

/** Thrown when an export is none of the shapes nodicorn can serve. */
export class NotAnAppError extends TypeError {
  readonly code = 'ERR_NOT_AN_APP';
  constructor(readonly found: string) {
    super(
      `expected an app: a (req, res) request listener or an object with handle(req, res); found ${found}`,
    );
    this.name = 'NotAnAppError';
  }
}

/** A short human description of a value, for error messages ("a string", "an object with keys a, b"). */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'function') return `a function${value.name ? ` named ${value.name}` : ''} taking ${value.length} argument(s)`;
  if (typeof value === 'object') {
    const keys = Object.keys(value).slice(0, 6);
    return keys.length ? `an object with keys ${keys.join(', ')}` : 'an empty object';
  }
  return `a ${typeof value} (${JSON.stringify(value)})`;
}

export function isApp(value: unknown): value is App {
  return typeof value === 'object' && value !== null && typeof (value as App).handle === 'function';
}

/** Wraps a plain Node request listener as an App. */
export function fromListener(listener: RequestListener): App {
  return { handle: listener };
}

/** Turns whatever a module exported into an App, or throws NotAnAppError saying what was found. */
export function toApp(exported: unknown, _options: AdapterOptions = {}): App {
  if (isApp(exported)) return exported;
  if (typeof exported === 'function') return fromListener(exported as RequestListener);
  throw new NotAnAppError(describeValue(exported));
}
