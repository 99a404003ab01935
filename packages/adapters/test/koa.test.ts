import { conformance } from './conformance.js';

conformance('koa');
