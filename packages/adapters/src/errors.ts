import { describeValue } from './describe.js';

/**
 * What `toApp` (and so `nodicorn APP`) accepts, each kind with what to export, for error messages:
 * every kind is named, so a module exporting the wrong thing says what the right thing would be.
 */
export const ACCEPTED_KINDS: readonly string[] = [
  'an App (export { handle(req, res) }, optionally upgrade, startup, shutdown)',
  'a (req, res) request listener (also a meta-framework handler: React Router\'s createRequestListener(), SvelteKit\'s handler)',
  'an Express app (export const app = express())',
  'a Koa app (new Koa())',
  'a Fastify 4 or 5 instance (fastify(), without listen())',
  'a NestJS application (await NestFactory.create(AppModule), without init() or listen())',
  'a node:http Server nobody listens on (http.createServer(), e.g. with Socket.IO attached)',
  'a Hono app (new Hono())',
  'an object or function with fetch(request) (export default { fetch })',
  'or, as APP itself, a Next.js app directory (one with a `next build`)',
];

export const ACCEPTED_SHAPES = `one of: ${ACCEPTED_KINDS.join('; ')}`;

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
