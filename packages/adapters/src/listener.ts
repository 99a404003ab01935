import type { App, RequestListener } from './app.js';
import { carryHooks } from './lifespan.js';

/**
 * Wraps a plain Node request listener as an App; `upgrade`, `startup` and `shutdown` set as
 * properties of the function are carried over.
 */
export function fromListener(listener: RequestListener): App {
  return carryHooks(listener, { handle: listener });
}
