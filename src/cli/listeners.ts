import type { Server } from 'node:http';
import type { Config } from '../platform/config/config.ts';
import { applyServerTimeouts, serverTimeoutsOf, type ServerTimeouts } from '../platform/http/server-timeouts.ts';

/** What every role listens with: its public HTTP app and its operations listener (metrics and probes). */
export interface Listeners {
  app: { server: Server; listen(options: { host: string; port: number }): Promise<string> };
  ops: { listen(options: { host: string; port: number; timeouts: ServerTimeouts }): Promise<{ url: string }> };
}

/**
 * Opens the operations listener (every role, the worker included, serves its metrics and probes
 * there), then the public one unless `publicListener` is false, both with the HTTP limits that cut
 * off a slow or idle client (docs/operations.md, HTTP limits). Returns the metrics URL and the URL
 * fastify reports for the public listener.
 */
export async function listen(config: Config, listeners: Listeners, options = { publicListener: true }): Promise<{ url: string | undefined; metricsUrl: string }> {
  const timeouts = serverTimeoutsOf(config);
  const metricsUrl = `${(await listeners.ops.listen({ host: config.OPS_HOST, port: config.OPS_PORT, timeouts })).url}/metrics`;
  if (!options.publicListener) return { url: undefined, metricsUrl };
  applyServerTimeouts(listeners.app.server, timeouts);
  return { url: await listeners.app.listen({ host: config.HOST, port: config.PORT }), metricsUrl };
}
