import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';

/** One request the gateway sends to an upstream service. */
export interface UpstreamRequest {
  method: string;
  /** Path and query string, e.g. `/v1/orders?limit=10`. */
  path: string;
  headers: Record<string, string>;
  /**
   * A buffer can be sent again on retry; a stream (a large upload) cannot. A stream that fails on
   * the caller's side fails with RequestBodyError, so that it is not taken for the upstream's failure.
   */
  body?: Buffer | Readable;
  /** Longest wait for the response headers, and for each chunk of the body after them. */
  timeoutMs: number;
  /** The route says a retry is safe (an idempotent method whose handler is idempotent too). */
  retryable: boolean;
}

/** An upstream's answer; the body is streamed to the client, and must be consumed or dumped. */
export interface UpstreamResponse {
  statusCode: number;
  headers: IncomingHttpHeaders;
  body: Dispatcher.ResponseData['body'];
  /** Which instance answered (its base URL); for logs, never sent to clients. */
  instance: string;
}

/** Why no upstream answer can be given: the gateway turns each kind into its own problem. */
export class UpstreamUnavailableError extends Error {
  readonly kind: 'circuit-open' | 'no-healthy-instance' | 'timeout' | 'connection-failed';
  readonly upstream: string;
  /** For `circuit-open`: when the breaker lets a probe through again. */
  readonly retryAfterSeconds: number;
  constructor(upstream: string, kind: UpstreamUnavailableError['kind'], retryAfterSeconds = 1, cause?: unknown) {
    super(`upstream ${upstream}: ${kind}`, { cause });
    this.name = 'UpstreamUnavailableError';
    this.upstream = upstream;
    this.kind = kind;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/**
 * The failure of a request body the caller streams, raised by the caller's side of the stream (its
 * client went away, or sent more than the route accepts): the caller's fault, never the upstream's.
 */
export class RequestBodyError extends Error {
  readonly reason: 'too-large' | 'client-aborted';
  constructor(reason: RequestBodyError['reason'], message: string) {
    super(message);
    this.name = 'RequestBodyError';
    this.reason = reason;
  }
}

/**
 * The request could not be sent as given (the client library refuses one of its headers, or its
 * streamed body failed on the caller's side): the caller's fault, so it counts against neither the
 * instance nor the circuit, and is never retried.
 */
export class UnsendableRequestError extends Error {
  readonly upstream: string;
  constructor(upstream: string, cause: unknown) {
    super(`upstream ${upstream}: the request cannot be sent`, { cause });
    this.name = 'UnsendableRequestError';
    this.upstream = upstream;
  }
}
