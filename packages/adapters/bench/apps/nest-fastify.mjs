import { FastifyAdapter } from '@nestjs/platform-fastify';
import { createNest } from './nest-shared.mjs';

export const app = await createNest(new FastifyAdapter());
