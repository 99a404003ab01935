export type { App, RequestListener, AdapterOptions } from './app.js';
export { toApp, isApp, fromListener, describeValue, NotAnAppError } from './to-app.js';
