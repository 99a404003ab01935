export const app = { fetch: () => new Response('Hello, World!') };
