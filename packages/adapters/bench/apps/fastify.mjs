import fastify from 'fastify';

export const app = fastify();
app.get('/', (req, reply) => reply.type('text/plain').send('Hello, World!'));
