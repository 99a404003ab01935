import { ExpressAdapter } from '@nestjs/platform-express';
import { createNest } from './nest-shared.mjs';

export const app = await createNest(new ExpressAdapter());
