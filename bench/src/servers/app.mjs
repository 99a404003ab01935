// nodicorn's view of the bench app: `nodicorn --chdir bench/src/servers app.mjs:app`.
import { handler } from './routes.mjs';

export const app = handler;
export default handler;
