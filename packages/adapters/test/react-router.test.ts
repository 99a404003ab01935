import { expect, it } from 'vitest';
import { detectShape } from '../src/shapes.js';
import { conformance } from './conformance.js';

// A meta-framework's Node handler (React Router's createRequestListener) served as the plain
// (req, res) listener it is.
conformance('react-router');

it('takes React Router\'s createRequestListener for a plain listener', async () => {
  const { app } = (await import('./fixtures/react-router-app.mjs')) as { app: unknown };
  expect(detectShape(app)).toBe('listener');
});
