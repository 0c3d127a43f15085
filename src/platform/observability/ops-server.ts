import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { runReadinessChecks, type ReadinessCheck } from '../http/readiness.ts';
import { applyServerTimeouts, type ServerTimeouts } from '../http/server-timeouts.ts';
import type { Logger } from '../logging/logger.ts';
import type { Metrics } from './metrics.ts';

/** The operations listener: `/metrics`, `/healthz` and `/readyz` on their own port. */
export interface OpsServer {
  /**
   * Starts listening (port 0 picks a free one); resolves with the address actually bound. With
   * `timeouts`, a slow or idle client is cut off as on the API's listener.
   */
  listen(options: { host: string; port: number; timeouts?: ServerTimeouts }): Promise<{ url: string; port: number }>;
  close(): Promise<void>;
}

/**
 * Serves Prometheus metrics and the probes on a listener apart from the public API (OPS_HOST,
 * OPS_PORT), so the metrics (which reveal traffic, routes and backlog) are never reachable where
 * customers are, cost nothing at the edge (no rate limit, no token), and a scrape still answers
 * when the API's listener is saturated. A plain `node:http` server: three routes need no framework.
 */
export function createOpsServer(options: {
  metrics: Metrics;
  readiness: readonly ReadinessCheck[];
  /** Per-check time limit of `/readyz` (default 2000). */
  readinessTimeoutMs?: number;
  logger: Logger;
}): OpsServer {
  const { metrics, logger } = options;
  const readinessTimeoutMs = options.readinessTimeoutMs ?? 2000;

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = (request.url ?? '/').split('?')[0];
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      send(response, 405, 'application/json', JSON.stringify({ error: 'method not allowed' }), { allow: 'GET, HEAD' });
      return;
    }
    switch (path) {
      case '/metrics': {
        const { contentType, body } = await metrics.exposition();
        send(response, 200, contentType, body);
        return;
      }
      case '/healthz':
        send(response, 200, 'application/json', JSON.stringify({ status: 'ok' }));
        return;
      case '/readyz': {
        const report = await runReadinessChecks(options.readiness, { timeoutMs: readinessTimeoutMs });
        const status = report.ready ? (report.degraded ? 'degraded' : 'ready') : 'not-ready';
        send(response, report.ready ? 200 : 503, 'application/json', JSON.stringify({ status, checks: report.checks }));
        return;
      }
      default:
        send(response, 404, 'application/json', JSON.stringify({ error: 'not found', paths: ['/metrics', '/healthz', '/readyz'] }));
    }
  }

  const server: Server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      logger.error({ err: error, path: request.url }, 'operations endpoint failed');
      if (!response.headersSent) send(response, 500, 'application/json', JSON.stringify({ error: 'internal error' }));
      else response.destroy();
    });
  });
  let listening = false;

  return {
    async listen({ host, port, timeouts }) {
      if (timeouts !== undefined) applyServerTimeouts(server, timeouts);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve();
        });
      });
      listening = true;
      const bound = (server.address() as AddressInfo).port;
      return { url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}`, port: bound };
    },
    async close() {
      if (!listening) return;
      listening = false;
      // Prometheus keeps its connection alive between scrapes; do not wait for it to go away.
      const closed = new Promise<void>((resolve) => { server.close(() => { resolve(); }); });
      server.closeAllConnections();
      await closed;
    },
  };
}

function send(response: ServerResponse, status: number, contentType: string, body: string, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store', ...headers });
  response.end(response.req.method === 'HEAD' ? undefined : body);
}
