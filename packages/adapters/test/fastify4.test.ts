import { conformance } from './conformance.js';

// The same Fastify adapter, against Fastify 4 (installed as the `fastify4` alias).
conformance('fastify4');
