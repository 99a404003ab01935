import { conformance } from './conformance.js';

conformance('hono');
