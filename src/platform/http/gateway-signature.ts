import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { RoutePolicy } from './edge.ts';
import type { Principal } from './principal.ts';

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

/** How a service checks the statements on the requests it receives (the GATEWAY_* settings), as `installGatewayTrust` (gateway-trust.ts) applies them. */
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
