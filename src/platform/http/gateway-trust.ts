import { createHash } from 'node:crypto';
import { BlockList, isIPv4, isIPv6 } from 'node:net';
import { pipeline, Transform, type TransformCallback } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { OverloadedError } from '../concurrency/overloaded.ts';
import { authorize, findPolicy } from './edge.ts';
import { bodyDigest, GatewaySignatureError, streamedBody, verifyPrincipal, type GatewayTrustSettings } from './gateway-signature.ts';
import { HttpProblem } from './problem.ts';
import { ReplayCache } from './replay-cache.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** Behind a gateway: the client's address the gateway vouched for. */
    clientAddress?: string;
  }
}

/** Routes a load balancer or orchestrator probes on each service directly, not through the gateway. */
const probeRoutes = new Set(['/healthz', '/readyz']);

/** What a statement signs for a request without a body. */
const emptyBodyDigest = bodyDigest(undefined);

/** Passes the body bytes on to the content-type parser unchanged, digesting them on the way. */
class DigestingStream extends Transform {
  readonly #hash = createHash('sha256');
  /** Set once the last byte has passed. */
  digest: string | undefined;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#hash.update(chunk);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    this.digest = this.#hash.digest('base64url');
    callback();
  }
}

/** Whether fastify will read a body for this request (it never does for GET, HEAD and TRACE). */
function carriesBody(request: FastifyRequest): boolean {
  if (request.method === 'GET' || request.method === 'HEAD' || request.method === 'TRACE') return false;
  const length = request.headers['content-length'];
  return request.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

function addressList(entries: readonly string[]): BlockList | undefined {
  if (entries.length === 0) return undefined;
  const list = new BlockList();
  for (const entry of entries) {
    const [address = '', prefix] = entry.split('/', 2);
    const family = isIPv4(address) ? 'ipv4' : isIPv6(address) ? 'ipv6' : undefined;
    if (family === undefined) throw new Error(`"${entry}" is not an IP address or CIDR range`);
    if (prefix === undefined) list.addAddress(address, family);
    else list.addSubnet(address, Number(prefix), family);
  }
  return list;
}

/**
 * The check a service behind the gateway runs instead of the public edge: every request except the
 * probes must carry a signed statement (from the gateway, or from another service calling as
 * `service`) that matches the request as received — method, URL, and body bytes, digested as the
 * body is parsed — and whose nonce this process has not seen; it becomes `request.principal`.
 * Rate limits and token checks ran at the gateway; the route policy is checked again here, so a
 * service's internal routes stay internal. Nonces live in this process: with several instances of
 * a service, a captured statement could be accepted once by each within its validity.
 */
export function installGatewayTrust(app: FastifyInstance, options: GatewayTrustSettings & { onRejected?: (reason: string) => void }): void {
  const validitySeconds = options.validitySeconds ?? 30;
  const clockSkewSeconds = options.clockSkewSeconds ?? 5;
  const nonces = new ReplayCache({ maxEntries: options.replayCacheSize ?? 100_000 });
  const trusted = addressList(options.trustedAddresses ?? []);
  /** The body digest each accepted request's statement vouches for, and the stream digesting what arrives. */
  const bodyChecks = new WeakMap<FastifyRequest, { expected: string; received?: DigestingStream }>();
  const refusal = (reason: string): HttpProblem => {
    options.onRejected?.(reason);
    return new HttpProblem({ status: 401, slug: 'gateway-required', title: 'Requests must come through the gateway', detail: 'Call the API at its public address.' });
  };

  app.addHook('onRequest', (request, _reply, done) => {
    if (probeRoutes.has(request.routeOptions.url ?? '')) {
      done();
      return;
    }
    try {
      const peer = request.socket.remoteAddress ?? '';
      if (trusted !== undefined && !trusted.check(peer, isIPv4(peer) ? 'ipv4' : 'ipv6')) throw new GatewaySignatureError('untrusted-address');
      const statement = verifyPrincipal({
        headers: request.headers, method: request.method, url: request.url, requestId: request.id, secret: options.secret, previousSecret: options.previousSecret, validitySeconds, clockSkewSeconds,
      });
      const verdict = nonces.remember(statement.nonce, statement.expiresAtMs);
      if (verdict.kind === 'replayed') throw new GatewaySignatureError('replayed');
      // Forgetting a nonce before its statement expires would let that statement be replayed, so a full cache refuses instead.
      if (verdict.kind === 'full') throw new OverloadedError('gateway nonces', 'the replay cache is full', { retryAfterSeconds: verdict.retryAfterSeconds });
      bodyChecks.set(request, { expected: statement.body });
      const { principal, clientAddress } = statement;
      if (principal !== undefined) request.principal = principal;
      request.clientAddress = clientAddress;
      const url = request.routeOptions.url;
      if (url !== undefined) authorize(findPolicy(options.policies, request.method === 'HEAD' ? 'GET' : request.method, url)?.access ?? 'admin', principal);
      done();
    } catch (error) {
      done(error instanceof GatewaySignatureError ? refusal(error.reason) : error as Error);
    }
  });

  app.addHook('preParsing', (request, _reply, payload, done) => {
    const check = bodyChecks.get(request);
    if (check === undefined || check.expected === streamedBody || !carriesBody(request)) {
      done(null, payload);
      return;
    }
    const received = new DigestingStream();
    check.received = received;
    // An aborted upload fails the digesting stream too, so the parser answers as it would have.
    pipeline(payload, received, () => undefined);
    done(null, received);
  });

  app.addHook('preValidation', (request, _reply, done) => {
    const check = bodyChecks.get(request);
    if (check === undefined || check.expected === streamedBody) {
      done();
      return;
    }
    // A body still unread here went to a parser that leaves it to the handler: only a streamed statement may do that.
    const received = check.received === undefined ? emptyBodyDigest : check.received.digest;
    if (received === undefined) done(refusal('body-unread'));
    else if (received !== check.expected) done(refusal('other-body'));
    else done();
  });
}
