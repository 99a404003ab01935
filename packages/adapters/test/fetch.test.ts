import { conformance } from './conformance.js';

conformance('fetch');
