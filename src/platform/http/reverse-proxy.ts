import type { IncomingHttpHeaders } from 'node:http';
import { Transform, type Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from '../logging/logger.ts';
import type { HttpApp } from './app.ts';
import type { RoutePolicy } from './edge.ts';
import { principalHeader, signatureHeader, signPrincipal } from './gateway-signature.ts';
import { HttpProblem } from './problem.ts';
import { RequestBodyError, UnsendableRequestError, UpstreamUnavailableError, type UpstreamPool } from './upstream-pool.ts';

// Headers that describe one hop, not the message, so are never forwarded either way (nor any
// `proxy-*` header, nor a header the message's own Connection header names). `expect` is answered
// by this hop's HTTP server; the client library refuses to send it on (and `upgrade`,
// `transfer-encoding`, `keep-alive`), which must not look like the upstream's failure.
const hopByHop = new Set(['connection', 'expect', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade']);
// What the gateway states itself, so a client's copies are dropped: its verdict on who is calling, and the forwarding trail.
const restated = new Set(['host', 'authorization', 'cookie', 'content-length', principalHeader, signatureHeader, 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'x-request-id']);

/** Where and how a gateway forwards the routes of its table. */
export interface ForwardedRoutesOptions {
  /** The route table; routes whose `upstream` is `gateway` are answered by the gateway itself, not forwarded. */
  policies: readonly RoutePolicy[];
  /** One pool per upstream service the table names. */
  upstreams: ReadonlyMap<string, UpstreamPool>;
  /** Signs the verified caller into each forwarded request (GATEWAY_SECRET). */
  secret: string;
  logger: Logger;
  /** A route's timeout unless its policy sets one (GATEWAY_TIMEOUT_MS). */
  timeoutMs: number;
  /** The largest body of an ordinary route, read whole (BODY_LIMIT_BYTES). */
  bodyLimit: number;
  /**
   * The largest body of an upload route, streamed through. It counts the whole body, so it must leave
   * room for the multipart framing around a file of the largest size a service accepts (uploadBodyLimit).
   */
  uploadLimit: number;
}

/**
 * Registers each route of the table that an upstream answers as a reverse proxy to it: the request
 * goes to one of the service's instances with the hop's headers dropped and the verified caller
 * signed in, and the service's answer streams back to the client.
 */
export function registerForwardedRoutes(scoped: HttpApp, options: ForwardedRoutesOptions): void {
  const { upstreams, secret, logger } = options;
  const forwarded = options.policies.filter((policy) => policy.upstream !== 'gateway');
  const addRoute = (routes: HttpApp, policy: RoutePolicy, bodyLimit: number): void => {
    const pool = upstreams.get(policy.upstream);
    if (pool === undefined) throw new Error(`no upstream ${policy.upstream}`);
    const timeoutMs = policy.timeoutMs ?? options.timeoutMs;
    routes.route({
      method: policy.method === '*' ? ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] : policy.method,
      url: policy.url,
      bodyLimit,
      schema: { hide: true },
      handler: (request, reply) => forward(request, reply, { pool, secret, timeoutMs, retryable: policy.retry === true, cookies: policy.cookies === true, logger }),
    });
  };
  // Bodies pass through untouched. On ordinary routes a body is read whole, up to
  // BODY_LIMIT_BYTES (413 before the upstream is called: from Content-Length at the edge, or
  // while reading a chunked body), so that a retry can send it again.
  void scoped.register((buffered: HttpApp, _options, done) => {
    buffered.removeAllContentTypeParsers();
    buffered.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, parsed) => { parsed(null, body); });
    for (const policy of forwarded.filter((candidate) => candidate.upload !== true)) addRoute(buffered, policy, options.bodyLimit);
    done();
  });
  // On upload routes the body streams through to the service as it arrives, never held whole,
  // and is cut off with 413 past the upload limit; such a request is never retried.
  const { uploadLimit } = options;
  void scoped.register((streamed: HttpApp, _options, done) => {
    streamed.removeAllContentTypeParsers();
    streamed.addContentTypeParser('*', (_request, payload, parsed) => { parsed(null, limitedBody(payload, uploadLimit)); });
    for (const policy of forwarded.filter((candidate) => candidate.upload === true)) addRoute(streamed, policy, uploadLimit);
    done();
  });
}

/** One request sent on to its upstream and the answer streamed back; an upstream that cannot answer, or a request that cannot be sent on, becomes its problem+json. */
async function forward(
  request: FastifyRequest, reply: FastifyReply,
  route: { pool: UpstreamPool; secret: string; timeoutMs: number; retryable: boolean; cookies: boolean; logger: Logger },
): Promise<FastifyReply> {
  // body: a Buffer read whole on ordinary routes; on upload routes a Readable streamed through.
  const body = request.body as Buffer | Readable | undefined;
  // What is left of an upload that was not read (refused, or answered early) is never read: the answer closes the connection instead.
  const closeIfUploadUnread = () => { if (body !== undefined && !Buffer.isBuffer(body) && !body.readableEnded) void reply.header('connection', 'close'); };
  try {
    const response = await route.pool.request({
      method: request.method,
      path: request.url,
      headers: forwardedHeaders(request, route.secret, body, route.cookies),
      ...(body === undefined ? {} : { body }),
      timeoutMs: route.timeoutMs,
      retryable: route.retryable,
    });
    void reply.code(response.statusCode).headers(returnedHeaders(response.headers));
    closeIfUploadUnread();
    return await reply.send(response.body);
  } catch (error) {
    closeIfUploadUnread();
    if (error instanceof UnsendableRequestError) {
      route.logger.info({ upstream: error.upstream, err: error.cause }, 'request not forwarded: the client sent what cannot be sent on');
      throw unsendableProblem(error);
    }
    if (!(error instanceof UpstreamUnavailableError)) throw error;
    route.logger.warn({ upstream: error.upstream, kind: error.kind, err: error.cause }, 'upstream unavailable');
    throw unavailableProblem(error);
  }
}

/**
 * An upload's bytes, passed on as they arrive: fails with RequestBodyError past `limit` bytes (a
 * chunked body declares no length the edge could check) or when the client leaves before the end,
 * so that neither is taken for the upstream's failure.
 */
function limitedBody(payload: Readable, limit: number): Readable {
  let received = 0;
  const body = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      received += chunk.length;
      if (received <= limit) {
        callback(null, chunk);
        return;
      }
      payload.unpipe(body);
      callback(new RequestBodyError('too-large', `At most ${limit} bytes are accepted.`));
    },
  });
  const aborted = () => { body.destroy(new RequestBodyError('client-aborted', 'The client closed the connection before the end of the body.')); };
  payload.on('error', aborted);
  payload.on('close', () => { if (!payload.readableEnded) aborted(); });
  // The client library reads a failure from the stream's state once it sends; until then, a failure must not go unheard.
  body.on('error', () => undefined);
  payload.pipe(body);
  return body;
}

function forwardedHeaders(request: FastifyRequest, secret: string, body: Buffer | Readable | undefined, cookies: boolean): Record<string, string> {
  const isHopByHop = hopByHopOf(request.headers);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined || isHopByHop(name) || name.startsWith('x-dev-')) continue;
    if (restated.has(name) && !(cookies && name === 'cookie')) continue;
    headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  // A streamed upload keeps its declared length; a buffered body's length is set by the client library.
  const length = request.headers['content-length'];
  if (length !== undefined && body !== undefined && !Buffer.isBuffer(body)) headers['content-length'] = length;
  // With TRUST_PROXY, the trusted part of the incoming trail is kept; otherwise it starts at this socket's peer.
  const trail = request.ips === undefined ? [request.socket.remoteAddress ?? request.ip] : [...request.ips].reverse();
  return {
    ...headers,
    'x-request-id': request.id,
    'x-forwarded-for': trail.join(', '),
    'x-forwarded-proto': request.protocol,
    ...(request.headers.host === undefined ? {} : { 'x-forwarded-host': request.headers.host }),
    // body: `body` holds the buffered Buffer on ordinary routes; on upload routes it is streamed (a Readable).
    // A streamed body cannot be digested before it is sent: it is signed as `streamed` with its declared length.
    ...signPrincipal({
      principal: request.principal, requestId: request.id, clientAddress: request.ip, secret,
      method: request.method, path: request.url, body: body === undefined || Buffer.isBuffer(body) ? body : 'streamed', contentLength: length,
    }),
  };
}

function returnedHeaders(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const isHopByHop = hopByHopOf(headers);
  const returned: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !isHopByHop(name)) returned[name] = value;
  }
  return returned;
}

/** Whether a header of this message belongs to the hop: a hop-by-hop header, `proxy-*`, or one its Connection header names. */
function hopByHopOf(headers: IncomingHttpHeaders): (name: string) => boolean {
  const named = new Set([headers.connection ?? []].flat().join(',').split(',').map((token) => token.trim().toLowerCase()).filter((token) => token !== ''));
  return (name) => hopByHop.has(name) || name.startsWith('proxy-') || named.has(name);
}

/** The answer to a request that could not be sent on through no fault of the upstream's. */
function unsendableProblem(error: UnsendableRequestError): HttpProblem {
  const cause = error.cause;
  if (cause instanceof RequestBodyError && cause.reason === 'too-large') {
    return new HttpProblem({ status: 413, slug: 'body-too-large', title: 'The body is too large', detail: cause.message });
  }
  if (cause instanceof RequestBodyError) {
    return new HttpProblem({ status: 400, slug: 'incomplete-body', title: 'The body did not arrive in full', detail: cause.message });
  }
  return new HttpProblem({ status: 400, slug: 'unforwardable-request', title: 'The request cannot be forwarded', detail: 'A header or the framing of the request cannot be sent on to the service.' });
}

function unavailableProblem(error: UpstreamUnavailableError): HttpProblem {
  switch (error.kind) {
    case 'timeout':
      return new HttpProblem({ status: 504, slug: 'upstream-timeout', title: 'The service did not answer in time', detail: 'Try again; if it was an order, send the same Idempotency-Key.' });
    case 'connection-failed':
      return new HttpProblem({ status: 502, slug: 'upstream-unreachable', title: 'The service could not be reached', detail: 'Try again shortly.' });
    case 'circuit-open':
    case 'no-healthy-instance':
      return new HttpProblem({
        status: 503, slug: 'service-unavailable', title: 'The service is unavailable',
        detail: `${error.kind === 'no-healthy-instance' ? 'No instance of the service is healthy. ' : ''}Retry in ${error.retryAfterSeconds} s.`,
        headers: { 'retry-after': String(error.retryAfterSeconds) },
      });
  }
}
