import { isIP } from 'node:net';
import { z } from 'zod';

/** fastify's `trustProxy` from TRUST_PROXY: a boolean, or addresses and CIDRs. */
function trustProxySetting(text: string): boolean | string {
  if (text === 'true' || text === 'false') return text === 'true';
  return text.split(',').map((entry) => entry.trim()).filter((entry) => entry !== '').join(',');
}

/** A comma-separated list of IP addresses and CIDR ranges (GATEWAY_TRUSTED_ADDRESSES). */
function addressList(text: string, context: z.RefinementCtx): string[] {
  const entries = text.split(',').map((entry) => entry.trim()).filter((entry) => entry !== '');
  for (const entry of entries) {
    const [address = '', prefix] = entry.split('/', 2);
    const family = isIP(address);
    if (family === 0 || (prefix !== undefined && !(/^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128)))) {
      context.addIssue({ code: 'custom', message: `"${entry}" is not an IP address or CIDR range` });
    }
  }
  return entries;
}

/** GATEWAY_UPSTREAMS as a map from service name to the base URLs of its instances. */
function upstreamTable(text: string, context: z.RefinementCtx): Record<string, string[]> {
  const table: Record<string, string[]> = {};
  for (const entry of text.split(';').map((part) => part.trim()).filter((part) => part !== '')) {
    const [name, urls] = entry.split('=', 2).map((part) => part.trim());
    const instances = (urls ?? '').split(',').map((url) => url.trim()).filter((url) => url !== '');
    if (name === undefined || !/^(\*|[a-z][a-z-]*)$/.test(name) || instances.length === 0 || instances.some((url) => !/^https?:\/\/[^/]+\/?$/.test(url))) {
      context.addIssue({ code: 'custom', message: `"${entry}" is not name=http://host:port[,http://host:port...]` });
      return {};
    }
    table[name] = instances.map((url) => url.replace(/\/$/, ''));
  }
  return table;
}

/** GATEWAY_REQUIRED_UPSTREAMS as a list of upstream names, or `*`. */
function upstreamNames(text: string, context: z.RefinementCtx): string[] {
  const names = text.split(',').map((name) => name.trim()).filter((name) => name !== '');
  for (const name of names) {
    if (!/^(\*|[a-z][a-z-]*)$/.test(name)) context.addIssue({ code: 'custom', message: `"${name}" is not an upstream name (lower-case letters and "-") or "*"` });
  }
  return names;
}

/** The edge: Redis state it shares, the proxies it trusts, the gateway and its upstreams, CORS and rate limits. */
export const edgeVariables = {
  REDIS_URL: z.string().regex(/^rediss?:\/\//, 'must start with redis:// or rediss://').optional()
    .describe('Redis for state shared between processes (the edge rate limit). Unset: kept in this process.'),
  REDIS_KEY_PREFIX: z.string().regex(/^[A-Za-z0-9:_-]{1,64}$/, 'letters, digits, ":", "_" and "-" only').default('orderstream:')
    .describe('Prefix of every Redis key OrderStream writes, so several deployments can share one Redis.'),
  TRUST_PROXY: z.string().default('false').transform(trustProxySetting)
    .describe('Which proxies may set `X-Forwarded-For` (the client IP rate limits use): `false`, `true` (any), or comma-separated addresses/CIDRs (e.g. `127.0.0.1,10.0.0.0/8`).'),
  GATEWAY_UPSTREAMS: z.string().default('').transform(upstreamTable)
    .describe('For `--role gateway`: the services behind it, `name=url[,url...]` separated by `;` (names from the route table: identity, catalog, inventory, orders, payments, notifications, jobs, docs; `*` for every other). E.g. `*=http://10.0.0.5:8080,http://10.0.0.6:8080`.'),
  GATEWAY_SECRET: z.string().min(32, 'must be at least 32 characters (openssl rand -base64 32)').optional()
    .describe('Shared by the gateway and the services behind it: the gateway signs the verified caller with it, and a process with it set (other than the gateway) accepts only requests so signed.'),
  GATEWAY_SECRET_PREVIOUS: z.string().min(32, 'must be at least 32 characters (openssl rand -base64 32)').optional()
    .describe('While GATEWAY_SECRET is rotated: the secret it replaces. Services accept statements signed with either and sign their calls to other services with both; gateways sign with GATEWAY_SECRET only (docs/security.md, Rotating secrets).'),
  GATEWAY_SIGNATURE_VALIDITY_SECONDS: z.coerce.number().int().min(1).max(300).default(30)
    .describe('Behind a gateway: how long after signing a request\'s statement (caller, method, URL, body digest, single-use nonce) a service accepts it.'),
  GATEWAY_SIGNATURE_CLOCK_SKEW_SECONDS: z.coerce.number().int().min(0).max(60).default(5)
    .describe('Behind a gateway: clock difference allowed either way between the signing process and the service checking the statement.'),
  GATEWAY_REPLAY_CACHE_SIZE: z.coerce.number().int().min(100).max(10_000_000).default(100_000)
    .describe('Behind a gateway: statement nonces a service remembers at most (each until its statement expires; under 100 bytes each). When full, a new request is refused with 503 and Retry-After rather than a nonce forgotten early.'),
  GATEWAY_TRUSTED_ADDRESSES: z.string().default('').transform(addressList)
    .describe('Behind a gateway: comma-separated addresses/CIDRs of the gateways and services allowed to send signed requests to a service (e.g. `10.0.1.0/24`); others are refused with 401. Empty: any address (rely on the private network or mTLS).'),
  GATEWAY_TIMEOUT_MS: z.coerce.number().int().min(10).max(600_000).default(10_000)
    .describe('Longest the gateway waits for an upstream (routes may set their own).'),
  GATEWAY_FAILURES_TO_EJECT: z.coerce.number().int().min(1).max(100).default(3)
    .describe('Consecutive failures (refused, reset, timed out, 502/503/504; never a request refused for the client\'s fault) after which an upstream instance leaves the rotation.'),
  GATEWAY_EJECT_MS: z.coerce.number().int().min(10).max(600_000).default(5000)
    .describe('How long an ejected instance rests before one request probes it back (or a health probe that passes brings it back).'),
  GATEWAY_BREAKER_ERROR_PERCENT: z.coerce.number().int().min(1).max(100).default(50)
    .describe('An upstream\'s circuit opens when more than this share of its requests fail within the window (once 10 were sent).'),
  GATEWAY_BREAKER_WINDOW_MS: z.coerce.number().int().min(100).max(600_000).default(10_000)
    .describe('The window of recent requests an upstream\'s circuit breaker judges.'),
  GATEWAY_BREAKER_RESET_MS: z.coerce.number().int().min(10).max(600_000).default(5000)
    .describe('How long an open circuit answers 503 at once before letting one probe through.'),
  GATEWAY_HEALTH_CHECK_INTERVAL_MS: z.coerce.number().int().min(50).max(600_000).default(2000)
    .describe('The gateway probes `/readyz` of every upstream instance this often (the pause after one probe ends and before the next starts; never two at once to one instance).'),
  GATEWAY_HEALTH_CHECK_TIMEOUT_MS: z.coerce.number().int().min(10).max(60_000).default(3000)
    .describe('Longest one health probe may take, connecting included, before it counts as failed. Longer than the 2 s a service\'s `/readyz` may wait for a slow dependency it can do without (Redis, Kafka), so that such a dependency does not take every instance out.'),
  GATEWAY_HEALTH_CHECK_FAILURES: z.coerce.number().int().min(1).max(100).default(2)
    .describe('Failed health probes in a row (no answer in time, or not 2xx) after which an upstream instance is down: it gets no request until its probes pass again.'),
  GATEWAY_HEALTH_CHECK_PASSES: z.coerce.number().int().min(1).max(100).default(1)
    .describe('Passing health probes in a row after which a down upstream instance is back in rotation.'),
  GATEWAY_REQUIRED_UPSTREAMS: z.string().default('').transform(upstreamNames)
    .describe('Comma-separated upstream services (names as in GATEWAY_UPSTREAMS; `*` for all) without a healthy instance of which the gateway\'s `/readyz` answers 503. Others without one make it `degraded` (200). Empty: none (docs/operations.md, Health).'),
  CORS_ORIGINS: z.string().default('').transform((text) => text.split(',').map((origin) => origin.trim()).filter((origin) => origin !== ''))
    .describe('Comma-separated browser origins allowed to call the API (CORS); empty allows none.'),
  RATE_LIMIT_BURST: z.coerce.number().int().min(1).max(1_000_000).default(200)
    .describe('Requests one client IP may make at once before the edge answers 429.'),
  RATE_LIMIT_PER_SECOND: z.coerce.number().min(0.1).max(1_000_000).default(100)
    .describe('Sustained requests per second allowed per client IP.'),
};
