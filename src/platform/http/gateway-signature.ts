import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { BlockList, isIPv4, isIPv6 } from 'node:net';
import { pipeline, Transform, type TransformCallback } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { OverloadedError } from '../concurrency/overloaded.ts';
import { authorize, findPolicy, type RoutePolicy } from './edge.ts';
import type { Principal } from './principal.ts';
import { HttpProblem } from './problem.ts';
import { ReplayCache } from './replay-cache.ts';

/**
 * How a service behind the gateway knows a request came through it, unchanged: the gateway states
 * who the caller is (or that it is anonymous) for exactly one request — its method, URL with query
 * string, body digest, request id and a single-use nonce — at one moment, and signs that statement
 * with a secret only gateways and services hold. A client cannot forge it; a captured statement
 * cannot be sent with another method, URL or body, and is refused a second time or once older
 * than the validity window.
 */
export const principalHeader = 'x-orderstream-principal';
export const signatureHeader = 'x-orderstream-signature';

/**
 * Signed in place of the body digest when the gateway streams a body through without holding it
 * (an import upload): the digest cannot be known before the headers are sent. Such a statement
 * still binds method, URL, declared length and a single-use nonce, and lives seconds.
 */
export const streamedBody = 'streamed';

interface SignedStatement {
  /** The request id the statement is for. */
  rid: string;
  /** Seconds since the epoch when the gateway signed. */
  iat: number;
  /** 128 random bits chosen by the signer: the statement is good for one request. */
  nonce: string;
  method: string;
  /** Path and query string, exactly as sent upstream. */
  url: string;
  /** SHA-256 of the body bytes (base64url; of no bytes when there is no body), or `streamed`. */
  body: string;
  /** For a streamed body: its declared Content-Length, null when it was sent without one. */
  length: number | null;
  principal: Principal | null;
  /** The client's address as the gateway saw it (its rate limits and the sign-in throttle key on it). */
  ip: string;
}

const roles = new Set(['customer', 'admin', 'service']);
const noncePattern = /^[A-Za-z0-9_-]{22}$/;
const digestPattern = /^[A-Za-z0-9_-]{43}$/;

function sign(payload: string, secret: string): string {
  return createHmac('sha256', secret).update(payload).digest('base64url');
}

/** The digest a statement signs for `body` (base64url SHA-256; no body digests as no bytes). */
export function bodyDigest(body: Buffer | undefined): string {
  return createHash('sha256').update(body ?? Buffer.alloc(0)).digest('base64url');
}

const emptyBodyDigest = bodyDigest(undefined);

/** Most signatures one statement may carry: one per secret during a rotation (current and previous). */
const maxSignatures = 2;

/**
 * The two headers the gateway (or a service calling another) adds to an upstream request; `path`
 * is the path with its query string and `body` the bytes sent, `streamed` when they pass through
 * unbuffered (then `contentLength` is the declared length, if any), undefined when there are none.
 * With `previousSecret` (a service while GATEWAY_SECRET is rotated) the statement is signed with
 * both, comma-separated, so a callee that knows either secret accepts it.
 */
export function signPrincipal(options: {
  principal: Principal | undefined;
  requestId: string;
  clientAddress: string;
  secret: string;
  previousSecret?: string | undefined;
  method: string;
  path: string;
  body: Buffer | typeof streamedBody | undefined;
  contentLength?: string | number | undefined;
  now?: Date;
}): Record<string, string> {
  const streamed = options.body === streamedBody;
  const length = streamed && options.contentLength !== undefined ? Number(options.contentLength) : null;
  const statement: SignedStatement = {
    rid: options.requestId,
    iat: Math.floor((options.now ?? new Date()).getTime() / 1000),
    nonce: randomBytes(16).toString('base64url'),
    method: options.method.toUpperCase(),
    url: options.path,
    body: options.body === streamedBody ? streamedBody : bodyDigest(options.body),
    length: length !== null && Number.isSafeInteger(length) && length >= 0 ? length : null,
    ip: options.clientAddress,
    principal: options.principal === undefined ? null : { id: options.principal.id, email: options.principal.email, roles: options.principal.roles },
  };
  const payload = Buffer.from(JSON.stringify(statement)).toString('base64url');
  const signatures = [options.secret, ...(options.previousSecret === undefined ? [] : [options.previousSecret])].map((secret) => sign(payload, secret));
  return { [principalHeader]: payload, [signatureHeader]: signatures.join(',') };
}

/** Why a gateway statement was refused; logged by the service, never detailed to the caller. */
export class GatewaySignatureError extends Error {
  readonly reason: string;
  constructor(reason: string) {
    super(`gateway signature rejected: ${reason}`);
    this.name = 'GatewaySignatureError';
    this.reason = reason;
  }
}

/** What a valid statement vouches for; the nonce and the body are still to be checked by the caller. */
export interface VerifiedStatement {
  principal: Principal | undefined;
  clientAddress: string;
  nonce: string;
  /** When the statement becomes stale (ms since the epoch): its nonce must be remembered until then. */
  expiresAtMs: number;
  /** The body digest to compare with the bytes received, or `streamed`. */
  body: string;
}

/**
 * The statement of a request as received — signed with `secret` or `previousSecret` (any of its
 * signatures), for this method, URL, request id and (for a streamed body) declared length, and
 * issued within `validitySeconds` allowing `clockSkewSeconds` either way — or GatewaySignatureError
 * naming what is wrong.
 */
export function verifyPrincipal(options: {
  headers: Record<string, string | string[] | undefined>;
  method: string;
  url: string;
  requestId: string;
  secret: string;
  /** A secret being rotated out (GATEWAY_SECRET_PREVIOUS): statements signed with it are accepted too. */
  previousSecret?: string | undefined;
  validitySeconds: number;
  clockSkewSeconds: number;
  now?: Date;
}): VerifiedStatement {
  const payload = options.headers[principalHeader];
  const signature = options.headers[signatureHeader];
  if (typeof payload !== 'string' || typeof signature !== 'string') throw new GatewaySignatureError('missing');
  if (!signedWithAny(payload, signature, [options.secret, ...(options.previousSecret === undefined ? [] : [options.previousSecret])])) {
    throw new GatewaySignatureError('bad-signature');
  }
  const statement = parseStatement(payload);
  if (statement.rid !== options.requestId) throw new GatewaySignatureError('other-request');
  if (statement.method !== options.method.toUpperCase()) throw new GatewaySignatureError('other-method');
  if (statement.url !== options.url) throw new GatewaySignatureError('other-url');
  const age = (options.now ?? new Date()).getTime() / 1000 - statement.iat;
  if (age > options.validitySeconds + options.clockSkewSeconds) throw new GatewaySignatureError('stale');
  if (age < -options.clockSkewSeconds) throw new GatewaySignatureError('issued-in-the-future');
  if (statement.body === streamedBody) {
    const declared = options.headers['content-length'];
    if ((statement.length === null) !== (declared === undefined) || (typeof declared === 'string' && Number(declared) !== statement.length)) {
      throw new GatewaySignatureError('other-length');
    }
  }
  return {
    principal: statement.principal ?? undefined,
    clientAddress: statement.ip,
    nonce: statement.nonce,
    expiresAtMs: (statement.iat + options.validitySeconds + options.clockSkewSeconds) * 1000,
    body: statement.body,
  };
}

/** Whether one of the comma-separated signatures (two at most) is the payload's under one of `secrets`; every pair is compared in constant time. */
function signedWithAny(payload: string, signatures: string, secrets: readonly string[]): boolean {
  const given = signatures.split(',');
  if (given.length > maxSignatures) return false;
  let matched = false;
  for (const secret of secrets) {
    const expected = Buffer.from(sign(payload, secret));
    for (const candidate of given) {
      const bytes = Buffer.from(candidate);
      if (bytes.length === expected.length && timingSafeEqual(bytes, expected)) matched = true;
    }
  }
  return matched;
}

function parseStatement(payload: string): SignedStatement {
  try {
    const value = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Partial<SignedStatement>;
    const principal = value.principal;
    const wellFormed = typeof value.rid === 'string' && typeof value.iat === 'number' && typeof value.ip === 'string'
      && typeof value.nonce === 'string' && noncePattern.test(value.nonce) && typeof value.method === 'string' && typeof value.url === 'string'
      && typeof value.body === 'string' && (value.body === streamedBody || digestPattern.test(value.body))
      && (value.length === null || (typeof value.length === 'number' && Number.isSafeInteger(value.length) && value.length >= 0))
      && (principal === null || (typeof principal === 'object' && typeof principal.id === 'string' && typeof principal.email === 'string'
        && Array.isArray(principal.roles) && (principal.roles as unknown[]).every((role) => typeof role === 'string' && roles.has(role))));
    if (wellFormed) return value as SignedStatement;
  } catch {
    // falls through to the rejection below
  }
  throw new GatewaySignatureError('malformed');
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Behind a gateway: the client's address the gateway vouched for. */
    clientAddress?: string;
  }
}

/** Routes a load balancer or orchestrator probes on each service directly, not through the gateway. */
const probeRoutes = new Set(['/healthz', '/readyz']);

/** How a service checks the statements on the requests it receives (the GATEWAY_* settings). */
export interface GatewayTrustSettings {
  secret: string;
  /** The secret being rotated out (GATEWAY_SECRET_PREVIOUS), accepted besides `secret` until it is removed. */
  previousSecret?: string | undefined;
  policies: readonly RoutePolicy[];
  /** How long after signing a statement is accepted (GATEWAY_SIGNATURE_VALIDITY_SECONDS); 30 by default. */
  validitySeconds?: number;
  /** Clock difference allowed between signer and service, either way (GATEWAY_SIGNATURE_CLOCK_SKEW_SECONDS); 5 by default. */
  clockSkewSeconds?: number;
  /** Most nonces remembered at once (GATEWAY_REPLAY_CACHE_SIZE); 100,000 by default. */
  replayCacheSize?: number;
  /** Addresses or CIDR ranges allowed to send signed requests (GATEWAY_TRUSTED_ADDRESSES); absent or empty: any. */
  trustedAddresses?: readonly string[];
}

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
