import { fileURLToPath } from 'node:url';
import { consoleRoutes } from '../platform/http/console-files.ts';
import type { RouteRegistration } from '../platform/http/app.ts';

/** Where the operations console is built: `console/dist` beside `src/`, by `npm install` in a checkout or the image's builder stage. */
export const consoleDistDir = fileURLToPath(new URL('../../console/dist', import.meta.url));

/** `/console`, served by the single process and by the gateway. */
export function consoleFiles(): RouteRegistration {
  return consoleRoutes(consoleDistDir);
}
