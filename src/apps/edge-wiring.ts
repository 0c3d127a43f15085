import type { Config } from '../platform/config/config.ts';
import { MemoryRateLimiter, TokenRejectedError, type EdgeOptions, type RateLimiter, type RoutePolicy, type TokenVerifier } from '../platform/http/edge.ts';
import type { GatewayTrustSettings } from '../platform/http/gateway-signature.ts';
import type { Metrics } from '../platform/observability/metrics.ts';
import { RedisRateLimiter } from '../platform/http/redis-rate-limiter.ts';
import type { Logger } from '../platform/logging/logger.ts';
import { TokenRejectedError as IdentityTokenRejectedError, type TokenVerifier as IdentityTokenVerifier } from '../modules/identity/index.ts';

/** The edge's two rate-limit buckets, in memory or (with REDIS_URL) shared by every process through Redis. */
export interface EdgeRateLimiters {
  rateLimiter: RateLimiter;
  authRateLimiter: RateLimiter;
  close(): Promise<void>;
}

export function createRateLimiters(config: Config, logger: Logger): EdgeRateLimiters {
  const limiterOf = (bucket: string, burst: number, perSecond: number): RateLimiter => (config.REDIS_URL === undefined
    ? new MemoryRateLimiter({ burst, perSecond })
    : new RedisRateLimiter({ url: config.REDIS_URL, burst, perSecond, keyPrefix: `${config.REDIS_KEY_PREFIX}rate:${bucket}:`, logger }));
  const rateLimiter = limiterOf('api', config.RATE_LIMIT_BURST, config.RATE_LIMIT_PER_SECOND);
  const authRateLimiter = limiterOf('auth', config.AUTH_RATE_LIMIT_BURST, config.AUTH_RATE_LIMIT_PER_SECOND);
  return {
    rateLimiter,
    authRateLimiter,
    async close() {
      await Promise.all([rateLimiter, authRateLimiter].map((limiter) => (limiter instanceof RedisRateLimiter ? limiter.close() : Promise.resolve())));
    },
  };
}

/** The edge's settings from configuration: the same for the single process and the gateway. */
export function edgeOptions(options: {
  config: Config; logger: Logger; metrics: Metrics; policies: readonly RoutePolicy[]; verifier: IdentityTokenVerifier; limiters: EdgeRateLimiters;
}): EdgeOptions {
  const { config } = options;
  return {
    policies: options.policies,
    verifier: edgeVerifier(options.verifier),
    rateLimiter: options.limiters.rateLimiter,
    authRateLimiter: options.limiters.authRateLimiter,
    bodyLimit: config.BODY_LIMIT_BYTES,
    uploadBodyLimit: uploadBodyLimit(config),
    devIdentityHeaders: config.DEV_IDENTITY_HEADERS,
    requireVerifiedEmail: config.REQUIRE_EMAIL_VERIFICATION,
    logger: options.logger,
    metrics: options.metrics,
  };
}

const multipartEnvelopeBytes = 64 * 1024;

/**
 * Largest body of an upload route (`upload` in the route table): the largest CSV accepted, plus
 * room for the multipart envelope around it (boundaries, part headers, a few small fields).
 */
export function uploadBodyLimit(config: Config): number {
  return config.IMPORT_MAX_BYTES + multipartEnvelopeBytes;
}

/** The identity module's verifier in the edge's terms: its rejections become the edge's 401. */
export function edgeVerifier(verifier: IdentityTokenVerifier): TokenVerifier {
  return {
    async verify(token) {
      try {
        const principal = await verifier.verify(token);
        return { id: principal.id, email: principal.email, roles: principal.roles, emailVerified: principal.emailVerified };
      } catch (error) {
        if (error instanceof IdentityTokenRejectedError) throw new TokenRejectedError(error.reason);
        throw error;
      }
    },
  };
}

/** How a process behind the gateway checks the signed statements it receives, from configuration (GATEWAY_*). */
export function gatewayTrustSettings(config: Config, secret: string, policies: readonly RoutePolicy[]): GatewayTrustSettings {
  return {
    secret, policies,
    previousSecret: config.GATEWAY_SECRET_PREVIOUS,
    validitySeconds: config.GATEWAY_SIGNATURE_VALIDITY_SECONDS,
    clockSkewSeconds: config.GATEWAY_SIGNATURE_CLOCK_SKEW_SECONDS,
    replayCacheSize: config.GATEWAY_REPLAY_CACHE_SIZE,
    trustedAddresses: config.GATEWAY_TRUSTED_ADDRESSES,
  };
}
