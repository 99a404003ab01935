import { describeValue } from './describe.js';

/** What `toApp` (and so `nodicorn APP`) accepts, for error messages. */
export const ACCEPTED_SHAPES =
  'an App object with handle(req, res), a (req, res) request listener, an Express app, a Koa app, ' +
  'a Fastify instance, a Hono app, or an object or function with fetch(request)';

/** Thrown when a value is none of the shapes nodicorn can serve, or not the shape an adapter needs. */
export class NotAnAppError extends TypeError {
  readonly code = 'ERR_NOT_AN_APP';
  /** A description of the offending value ("an object with keys a, b"). */
  readonly found: string;
  constructor(found: unknown, expected = ACCEPTED_SHAPES, hint = hintFor(found)) {
    const description = describeValue(found);
    super(`expected ${expected}; found ${description}${hint ? ` (${hint})` : ''}`);
    this.name = 'NotAnAppError';
    this.found = description;
  }
}

/** A likely mistake behind a value that is not an app, to say what to do about it. */
function hintFor(value: unknown): string {
  if (value instanceof Promise) return 'export the app itself, or a factory (module:create()) whose promise nodicorn awaits';
  if (value !== null && typeof value === 'object' && 'default' in value) return 'a module namespace? name the export, e.g. module.js:default';
  return '';
}
