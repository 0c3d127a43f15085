import type { Server } from 'node:http';
import type { Config } from '../config/config.ts';

/** How long a listener waits for a request to arrive, and keeps an idle connection open. */
export interface ServerTimeouts {
  /** The whole request, headers and body (HTTP_REQUEST_TIMEOUT_MS). */
  requestTimeoutMs: number;
  /** The request line and headers (HTTP_HEADERS_TIMEOUT_MS); at most `requestTimeoutMs`. */
  headersTimeoutMs: number;
  /** An idle kept-alive connection (HTTP_KEEP_ALIVE_TIMEOUT_MS). */
  keepAliveTimeoutMs: number;
}

/** The timeouts every listener of a process applies, from its configuration. */
export function serverTimeoutsOf(config: Pick<Config, 'HTTP_REQUEST_TIMEOUT_MS' | 'HTTP_HEADERS_TIMEOUT_MS' | 'HTTP_KEEP_ALIVE_TIMEOUT_MS'>): ServerTimeouts {
  return {
    requestTimeoutMs: config.HTTP_REQUEST_TIMEOUT_MS,
    headersTimeoutMs: config.HTTP_HEADERS_TIMEOUT_MS,
    keepAliveTimeoutMs: config.HTTP_KEEP_ALIVE_TIMEOUT_MS,
  };
}

/**
 * Sets `timeouts` on a Node HTTP server before it listens. fastify leaves Node's whole-request
 * limit off, so without this a client sending its body a byte at a time holds its connection for
 * ever. A request past its limit reaches the server's `clientError` handler, which answers 408 when
 * no response has begun. Node looks for late requests on a timer (every 30 s unless told), so the
 * timer is set to a fraction of the shortest limit for a request to be cut off close to it.
 */
export function applyServerTimeouts(server: Server, timeouts: ServerTimeouts): void {
  if (timeouts.headersTimeoutMs > timeouts.requestTimeoutMs) throw new RangeError('the headers timeout must not exceed the request timeout');
  server.requestTimeout = timeouts.requestTimeoutMs;
  server.headersTimeout = timeouts.headersTimeoutMs;
  server.keepAliveTimeout = timeouts.keepAliveTimeoutMs;
  // Read by Node when the server starts listening.
  (server as Server & { connectionsCheckingInterval: number }).connectionsCheckingInterval = Math.min(1000, Math.max(25, Math.floor(timeouts.headersTimeoutMs / 4)));
}
