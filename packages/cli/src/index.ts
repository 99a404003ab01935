export { serve, reportFatal, version } from './serve.js';
