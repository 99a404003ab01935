import fastify from 'fastify';
import fastify4 from 'fastify4';
import { describe, expect, it } from 'vitest';
import { fromFastify } from './fastify.js';

const trustAll = () => true;
const FORWARDED = { 'x-forwarded-for': '203.0.113.7', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'example.com' };

describe('fromFastify proxy trust', () => {
  // Fastify builds requests from its base class when no plugin decorated the instance's request class,
  // which would bypass getters defined on that class: the adapter must mark it as decorated.
  for (const [name, make] of [['5', fastify], ['4', fastify4]] as const) {
    it(`reaches req.ip/protocol/host on a Fastify ${name} instance no plugin decorated`, async () => {
      const app = make();
      app.get('/whoami', (req) => ({ ip: req.ip, protocol: req.protocol, host: (req as unknown as { host: string }).host }));
      const served = fromFastify(app as never, { trustProxy: trustAll });
      await served.startup?.();
      const res = await app.inject({ url: '/whoami', headers: FORWARDED });
      expect(res.json()).toEqual({ ip: '203.0.113.7', protocol: 'https', host: 'example.com' });
      await served.shutdown?.();
    });
  }
});
