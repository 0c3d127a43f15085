import { servicesDown } from './services-down.ts';
import type { ServicesAction, ServicesOptions } from './services-options.ts';
import { servicesStatus } from './services-status.ts';
import { servicesUp } from './services-up.ts';

/**
 * `orderstream services up|down|status`: the whole services shape on one machine, as background
 * processes — nginx in front of two gateways, one process per service role on a database of its
 * own on the local PostgreSQL server, Kafka between them — with everything it keeps (pids, logs,
 * secrets, nginx's files, the port plan) under one folder, `.data/services` by default.
 */

// The one door to the pieces beside this file, so that src/cli/ and tools/services-admin.ts need not know how they are cut.
export {
  defaultApiPort, defaultDatabasePrefix, defaultRedisUrl, defaultServerUrl, defaultServicesDir,
  parseServicesArguments, servicesActions, ServicesArgumentError, ServicesError,
  type ServicesAction, type ServicesOptions,
} from './services-options.ts';
export { servicesUp } from './services-up.ts';
export { servicesDown } from './services-down.ts';
export { servicesStatus } from './services-status.ts';
export { findServicesShape, type ServicesShape } from './services-shape.ts';

/** Runs one action; resolves with the exit code (status: 0 only when everything runs and is ready). */
export async function runServices(action: ServicesAction, options: ServicesOptions): Promise<number> {
  switch (action) {
    case 'up':
      return servicesUp(options);
    case 'down':
      return servicesDown(options);
    case 'status':
      return servicesStatus(options);
  }
}
