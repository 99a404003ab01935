export type { App, RequestListener } from './app.js';
export { toApp, isApp, fromListener, describeValue, NotAnAppError } from './to-app.js';
