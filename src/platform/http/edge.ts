import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Logger } from '../logging/logger.ts';
import { devPrincipal, type Principal } from './principal.ts';
import { HttpProblem } from './problem.ts';

/** Who may call a route: anyone, a signed-in customer (or admin), an admin, or a service client. */
export type Access = 'public' | 'customer' | 'admin' | 'service';

/** One line of the edge's routing table: a method and a route template (`/v1/orders/:id`), or a prefix ending in `*`. */
export interface RoutePolicy {
  method: string;
  url: string;
  access: Access;
  /** Which rate-limit bucket the route draws from: the general one (default), or the tighter `auth` one for sign-in and token endpoints. */
  rateLimit?: 'auth';
  /**
   * The service that answers the route behind a gateway (`orders`), or `gateway` for routes the
   * gateway answers itself (its probes). The single process serves every route in-process.
   */
  upstream: string;
  /** Longest wait for the upstream's answer; the gateway's default (GATEWAY_TIMEOUT_MS) when absent. */
  timeoutMs?: number;
  /** The handler is idempotent, so the gateway may send the request again to another instance. */
  retry?: boolean;
  /**
   * The route takes a document upload: its body may be as large as the upload limit
   * (IMPORT_MAX_BYTES) instead of BODY_LIMIT_BYTES, and the gateway streams it through to the
   * service instead of holding it whole.
   */
  upload?: true;
  /** With `requireVerifiedEmail` on, a caller whose token says the email is unverified is refused (403 `email-not-verified`). */
  verifiedEmail?: true;
  /** The route reads a cookie (identity's refresh-token cookie), so the gateway passes the client's Cookie header on; it drops it otherwise. */
  cookies?: true;
}

/** Why a bearer token was refused; the reason is logged, never echoed in detail to the caller. */
export class TokenRejectedError extends Error {
  readonly reason: string;
  constructor(reason: string) {
    super(`token rejected: ${reason}`);
    this.name = 'TokenRejectedError';
    this.reason = reason;
  }
}

/** Verifies bearer tokens (port): resolves the principal, or throws TokenRejectedError. */
export interface TokenVerifier {
  verify(token: string): Promise<Principal>;
}

/** The outcome of one `take`: whether the request may pass, and what the `RateLimit-*` headers report. */
export interface RateLimitDecision {
  allowed: boolean;
  /** The bucket's size (`burst`): `RateLimit-Limit`. */
  limit: number;
  /** Whole requests left in the bucket after this one: `RateLimit-Remaining`. */
  remaining: number;
  /** Seconds until the bucket is full again: `RateLimit-Reset`. */
  resetSeconds: number;
  /** Seconds until one more request would pass; 0 when allowed: `Retry-After` on 429. */
  retryAfterSeconds: number;
}

/** Decides whether one more request from `key` may pass now (port). */
export interface RateLimiter {
  take(key: string): Promise<RateLimitDecision>;
}

/** A token bucket's state after a take, in the decision's terms; shared by the memory and Redis adapters. */
export function bucketDecision(allowed: boolean, tokens: number, burst: number, perSecond: number): RateLimitDecision {
  return {
    allowed,
    limit: burst,
    remaining: Math.max(0, Math.floor(tokens)),
    resetSeconds: Math.max(0, Math.ceil((burst - tokens) / perSecond)),
    retryAfterSeconds: allowed ? 0 : Math.max(1, Math.ceil((1 - tokens) / perSecond)),
  };
}

/** A token bucket per key in this process's memory: `burst` requests at once, refilled at `perSecond`. */
export class MemoryRateLimiter implements RateLimiter {
  readonly #buckets = new Map<string, { tokens: number; updatedAt: number }>();
  readonly #burst: number;
  readonly #perSecond: number;
  readonly #now: () => number;

  constructor(options: { burst: number; perSecond: number; now?: () => number }) {
    this.#burst = options.burst;
    this.#perSecond = options.perSecond;
    this.#now = options.now ?? (() => performance.now());
  }

  take(key: string): Promise<RateLimitDecision> {
    const now = this.#now();
    const bucket = this.#buckets.get(key) ?? { tokens: this.#burst, updatedAt: now };
    bucket.tokens = Math.min(this.#burst, bucket.tokens + ((now - bucket.updatedAt) / 1000) * this.#perSecond);
    bucket.updatedAt = now;
    this.#buckets.set(key, bucket);
    if (this.#buckets.size > 100_000) this.#forgetFullBuckets(now);
    const allowed = bucket.tokens >= 1;
    if (allowed) bucket.tokens -= 1;
    return Promise.resolve(bucketDecision(allowed, bucket.tokens, this.#burst, this.#perSecond));
  }

  // Keys that would be full by now carry no information; dropping them bounds memory.
  #forgetFullBuckets(now: number): void {
    for (const [key, bucket] of this.#buckets) {
      if (bucket.tokens + ((now - bucket.updatedAt) / 1000) * this.#perSecond >= this.#burst) this.#buckets.delete(key);
    }
  }
}

/** What the edge reports (port): implemented with a Prometheus counter. */
export interface EdgeMetrics {
  /** A request was refused with 429 from `bucket`: `auth` (sign-in and token routes) or `api`. */
  rateLimited(bucket: 'api' | 'auth'): void;
}

export interface EdgeOptions {
  policies: readonly RoutePolicy[];
  verifier: TokenVerifier;
  /** The general bucket, per client IP. */
  rateLimiter: RateLimiter;
  /**
   * The bucket of routes whose policy says `rateLimit: 'auth'` (sign-in, refresh, tokens), per client
   * IP and separate from the general one, so password guessing is held to a tighter budget without
   * starving the rest of the API. Absent: those routes draw from `rateLimiter`.
   */
  authRateLimiter?: RateLimiter;
  /** Largest body a route accepts, by its declared length (413 above it). */
  bodyLimit: number;
  /** Largest body of a route whose policy says `upload`; `bodyLimit` when absent. */
  uploadBodyLimit?: number;
  /** Also accept the development identity headers (never in production). */
  devIdentityHeaders?: boolean;
  logger: Logger;
  /** Counts rate-limit rejections per bucket. */
  metrics?: EdgeMetrics;
  /** Routes whose policy says `verifiedEmail` refuse callers whose email is not verified (REQUIRE_EMAIL_VERIFICATION). */
  requireVerifiedEmail?: boolean;
}

/** The edge's response headers a browser script may read when CORS is on. */
export const edgeExposedHeaders = ['x-request-id', 'retry-after', 'ratelimit-limit', 'ratelimit-remaining', 'ratelimit-reset', 'www-authenticate', 'location'];

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the edge from a verified bearer token. */
    principal?: Principal;
  }
}

const bodyTypes = ['application/json', 'multipart/form-data', 'application/x-www-form-urlencoded'];
/**
 * An upload route takes its document as multipart/form-data only: refused before a byte is read,
 * a body of another type is never streamed to a service that would refuse it part-way.
 */
const uploadTypes = ['multipart/form-data'];

/**
 * The edge's work per request, before any route runs, in this order: (request id, already set) →
 * declared body size and content type → rate limit → bearer token → route policy. A request
 * refused at any step never reaches a handler, so it costs no module work and no database query.
 * Every route must have a policy, or the app refuses to start.
 */
export function installEdge(app: FastifyInstance, options: EdgeOptions): void {
  const policies = options.policies;
  const unpoliced: string[] = [];
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) {
      if (method !== 'HEAD' && method !== 'OPTIONS' && findPolicy(policies, method, route.url) === undefined) unpoliced.push(`${method} ${route.url}`);
    }
  });
  app.addHook('onReady', (done) => {
    done(unpoliced.length === 0 ? undefined : new Error(`No edge policy for ${unpoliced.join(', ')}: add it to the gateway's route policies`));
  });

  // Route templates are few and fixed: each one's policy is looked up once, not on every request.
  const policyOf = new Map<string, RoutePolicy | undefined>();
  const policyFor = (method: string, url: string): RoutePolicy | undefined => {
    const key = `${method} ${url}`;
    if (!policyOf.has(key)) policyOf.set(key, findPolicy(policies, method, url));
    return policyOf.get(key);
  };

  app.addHook('onRequest', async (request, reply) => {
    const url = request.routeOptions.url;
    const method = request.method === 'HEAD' ? 'GET' : request.method;
    const policy = url === undefined ? undefined : policyFor(method, url);
    if (policy?.upload === true) checkDeclaredBody(request, options.uploadBodyLimit ?? options.bodyLimit, uploadTypes);
    else checkDeclaredBody(request, options.bodyLimit, bodyTypes);

    // Keyed by client IP, not by subject: the limit runs before the token is verified, so that a
    // flood of forged tokens costs no signature checks. Preflights carry no credentials and are
    // answered by CORS before this hook when CORS is on.
    const authLimiter = policy?.rateLimit === 'auth' ? options.authRateLimiter : undefined;
    const bucket = authLimiter === undefined ? 'api' : 'auth';
    const limiter = authLimiter ?? options.rateLimiter;
    const limited = await limiter.take(request.ip);
    void reply.headers({
      'ratelimit-limit': String(limited.limit), 'ratelimit-remaining': String(limited.remaining), 'ratelimit-reset': String(limited.resetSeconds),
    });
    if (!limited.allowed) {
      options.metrics?.rateLimited(bucket);
      throw new HttpProblem({
        status: 429, slug: 'rate-limited', title: 'Too many requests',
        detail: `Slow down; retry in ${limited.retryAfterSeconds} s.`, headers: { 'retry-after': String(limited.retryAfterSeconds) },
      });
    }

    const token = bearerToken(request);
    if (token !== undefined) {
      try {
        request.principal = await options.verifier.verify(token);
      } catch (error) {
        if (!(error instanceof TokenRejectedError)) throw error;
        options.logger.info({ reason: error.reason }, 'bearer token rejected');
        throw new HttpProblem({
          status: 401, slug: 'invalid-token', title: 'The access token is not valid',
          detail: 'Sign in again to get a fresh token.', headers: { 'www-authenticate': 'Bearer error="invalid_token"' },
        });
      }
    }

    if (request.principal === undefined && options.devIdentityHeaders === true) request.principal = devPrincipal(request);

    if (url === undefined) return; // no such route: the not-found handler answers
    authorize(policy?.access ?? 'admin', request.principal);
    if (options.requireVerifiedEmail === true && policy?.verifiedEmail === true && request.principal?.emailVerified === false) {
      throw new HttpProblem({
        status: 403, slug: 'email-not-verified', title: 'Email address not verified',
        detail: 'Confirm your email address with the link mailed to it (or sign in with an emailed sign-in link), then refresh your token.',
      });
    }
  });
}

function checkDeclaredBody(request: FastifyRequest, bodyLimit: number, types: readonly string[]): void {
  const length = Number(request.headers['content-length'] ?? 0);
  if (length > bodyLimit) {
    throw new HttpProblem({ status: 413, slug: 'body-too-large', title: 'The body is too large', detail: `At most ${bodyLimit} bytes are accepted.` });
  }
  const hasBody = length > 0 || request.headers['transfer-encoding'] !== undefined;
  if (!hasBody) return;
  const type = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (!types.includes(type)) {
    throw new HttpProblem({ status: 415, slug: 'unsupported-media-type', title: 'Unsupported content type', detail: `Send ${types.join(' or ')}.` });
  }
}

function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (header === undefined) return undefined;
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (match?.[1] === undefined) {
    throw new HttpProblem({ status: 401, slug: 'invalid-token', title: 'The access token is not valid', detail: 'Use "Authorization: Bearer <token>".', headers: { 'www-authenticate': 'Bearer' } });
  }
  return match[1];
}

/** Refuses with 401 (nobody signed in) or 403 (wrong role) unless `principal` may call a route of `access`. */
export function authorize(access: Access, principal: Principal | undefined): void {
  if (access === 'public') return;
  if (principal === undefined) {
    throw new HttpProblem({ status: 401, slug: 'unauthenticated', title: 'Authentication required', detail: 'Send "Authorization: Bearer <access token>".', headers: { 'www-authenticate': 'Bearer' } });
  }
  const allowed = access === 'customer'
    ? principal.roles.includes('customer') || principal.roles.includes('admin')
    : principal.roles.includes(access);
  if (!allowed) throw new HttpProblem({ status: 403, slug: 'forbidden', title: 'Not allowed', detail: `This needs the ${access} role.` });
}

/** The policy of a route: an exact method and template, or a `*` prefix. */
export function findPolicy(policies: readonly RoutePolicy[], method: string, url: string): RoutePolicy | undefined {
  return policies.find((policy) => (policy.method === method || policy.method === '*')
    && (policy.url === url || (policy.url.endsWith('*') && url.startsWith(policy.url.slice(0, -1)))));
}
