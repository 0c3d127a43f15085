import { isIP } from 'node:net';
import { z } from 'zod';

const externalIssuersSchema = z.array(z.strictObject({
  issuer: z.url(),
  jwksUrl: z.url(),
  audience: z.string().min(1),
  rolesClaim: z.string().min(1),
  roleMapping: z.record(z.string(), z.enum(['customer', 'admin'])),
}));

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

/** WEBHOOK_ALLOWED_NETWORKS as a list of addresses and CIDRs (`10.0.0.0/8`, `::1`). */
function networkList(text: string, context: z.RefinementCtx): string[] {
  const networks = text.split(',').map((entry) => entry.trim()).filter((entry) => entry !== '');
  for (const network of networks) {
    const [address = '', prefix, extra] = network.split('/');
    const family = isIP(address);
    const validPrefix = prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128));
    if (family === 0 || address.includes('%') || extra !== undefined || !validPrefix) {
      context.addIssue({ code: 'custom', message: `"${network}" is not an IP address or CIDR (e.g. 127.0.0.0/8, ::1)` });
    }
  }
  return networks;
}

/** Environment variables OrderStream reads, with their meaning; the README's table is checked against this list. */
export const configSchema = z.object({
  HOST: z.string().min(1).default('127.0.0.1')
    .describe('Interface the HTTP server listens on.'),
  PORT: z.coerce.number().int().min(0).max(65535).default(8080)
    .describe('HTTP port (0 picks a free one).'),
  OPS_HOST: z.string().min(1).default('127.0.0.1')
    .describe('Interface of the operations listener (`/metrics`, `/healthz`, `/readyz`), kept apart from the public API; `0.0.0.0` to let Prometheus on another host scrape it.'),
  OPS_PORT: z.coerce.number().int().min(0).max(65535).default(9464)
    .describe('Port of the operations listener (0 picks a free one); give each process on one host its own.'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info')
    .describe('Minimum level of the JSON log lines written to standard output.'),
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional()
    .describe('PostgreSQL connection string. Unset: an embedded PostgreSQL is started from node_modules.'),
  IDENTITY_DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional()
    .describe('Database of the identity service in the services shape (`--role identity`); DATABASE_URL when unset.'),
  CATALOG_DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional()
    .describe('Database of the catalog service in the services shape (`--role catalog`); DATABASE_URL when unset.'),
  INVENTORY_DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional()
    .describe('Database of the inventory service in the services shape (`--role inventory`); DATABASE_URL when unset.'),
  ORDERS_DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional()
    .describe('Database of the orders service in the services shape (`--role orders`); DATABASE_URL when unset.'),
  PAYMENTS_DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional()
    .describe('Database of the payments service in the services shape (`--role payments`); DATABASE_URL when unset.'),
  NOTIFICATIONS_DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional()
    .describe('Database of the notifications service in the services shape (`--role notifications`); DATABASE_URL when unset.'),
  JOBS_DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional()
    .describe('Database of the jobs service in the services shape (`--role jobs`); DATABASE_URL when unset.'),
  KAFKA_BROKERS: z.string().regex(/^[^,\s]+:\d+(,[^,\s]+:\d+)*$/, 'must be host:port[,host:port...]').optional()
    .describe('Apache Kafka bootstrap brokers (`host:port,...`): messages between services go through Kafka. Unset: delivered in-process (one process only).'),
  KAFKA_NAMESPACE: z.string().regex(/^[a-z0-9][a-z0-9-]{0,40}$/, 'lower-case letters, digits and "-"').optional()
    .describe('Prefix of OrderStream\'s Kafka topics and consumer groups, so several deployments can share one cluster. Unset: none.'),
  KAFKA_TOPIC_PARTITIONS: z.coerce.number().int().min(1).max(1000).default(6)
    .describe('Partitions of the topics OrderStream creates; more partitions let more orders be handled in parallel by more instances.'),
  CATALOG_SERVICE_URL: z.string().regex(/^https?:\/\/[^,\s]+(,https?:\/\/[^,\s]+)*$/, 'must be http(s) URLs separated by commas').optional()
    .describe('Services shape: the catalog service instances (comma-separated) that orders and jobs ask for products and prices.'),
  CATALOG_READ_CACHE_SECONDS: z.coerce.number().int().min(0).max(3600).default(5)
    .describe('Products read by id or SKU are kept in the catalog process\'s memory this long; its own changes are seen at once, another replica\'s within this time. 0: every read queries the database.'),
  LOW_STOCK_THRESHOLD: z.coerce.number().int().min(0).max(1_000_000_000).default(5)
    .describe('Product reads show availability `low` when fewer units than this can be ordered (`out-of-stock` at none, `in-stock` from this many); 0 never shows low.'),
  CATALOG_CACHE_TTL_SECONDS: z.coerce.number().int().min(1).max(86_400).default(300)
    .describe('Services shape with REDIS_URL: how long a product snapshot stays in the Redis cache in front of the catalog service (a change announced by the catalog drops it at once).'),
  INVENTORY_SERVICE_URL: z.string().regex(/^https?:\/\/[^,\s]+(,https?:\/\/[^,\s]+)*$/, 'must be http(s) URLs separated by commas').optional()
    .describe('Services shape: the inventory service instances (comma-separated) that imports set stock through.'),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(2).max(200).default(20)
    .describe('Maximum connections in the database pool (at least 2: the outbox relay holds one while consumers use another).'),
  DATABASE_ACQUIRE_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(3000)
    .describe('Longest wait for a pooled database connection; past it the request gets 503 with Retry-After (messaging tries the message again later, without counting an attempt).'),
  DATABASE_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(100).max(3_600_000).default(30_000)
    .describe('PostgreSQL `statement_timeout` of every pooled connection: a statement running longer is cancelled. A claimed message retry is leased for twice this (at least 5 minutes), so it outlasts its attempt.'),
  DATABASE_LOCK_TIMEOUT_MS: z.coerce.number().int().min(100).max(3_600_000).default(10_000)
    .describe('PostgreSQL `lock_timeout` of every pooled connection: a statement waiting longer for a lock is cancelled.'),
  DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: z.coerce.number().int().min(100).max(3_600_000).default(30_000)
    .describe('PostgreSQL `idle_in_transaction_session_timeout`: a connection left idle inside a transaction this long is ended by the server, and its locks freed.'),
  DATABASE_NESTING_GUARD: z.enum(['on', 'off']).default('on').transform((value) => value === 'on')
    .describe('Refuse (with both stacks) a unit of work that asks the pool for a second connection while it holds one, the pattern that wedges a pool under load. Costs one stack capture per transaction.'),
  EMBEDDED_POSTGRES_DIR: z.string().min(1).default('.data/postgres')
    .describe('Data folder of the embedded PostgreSQL (relative to the working directory).'),
  EMBEDDED_POSTGRES_PORT: z.coerce.number().int().min(0).max(65535).default(0)
    .describe('Port of the embedded PostgreSQL (0 picks a free one at each start).'),
  BODY_LIMIT_BYTES: z.coerce.number().int().min(1024).max(50 * 1024 * 1024).default(1024 * 1024)
    .describe('Largest request body accepted by every route but the import upload; larger ones get 413 (from Content-Length before reading, else once passed).'),
  HTTP_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).max(3_600_000).default(120_000)
    .describe('Longest a request may take to arrive in full, headers and body, on every listener; a slower one gets 408 and its connection is closed. Must let an upload of IMPORT_MAX_BYTES arrive at 1 MiB/s.'),
  HTTP_HEADERS_TIMEOUT_MS: z.coerce.number().int().min(100).max(3_600_000).default(10_000)
    .describe('Longest the request line and headers may take to arrive (at most HTTP_REQUEST_TIMEOUT_MS); a slower request gets 408 and its connection is closed.'),
  HTTP_KEEP_ALIVE_TIMEOUT_MS: z.coerce.number().int().min(100).max(3_600_000).default(72_000)
    .describe('An idle kept-alive connection is closed after this long; longer than the idle timeout of a proxy in front (nginx and most load balancers: 60 s), so the proxy closes first.'),
  OUTBOX_POLL_INTERVAL_MS: z.coerce.number().int().min(10).max(60_000).default(1000)
    .describe('How often the outbox relay looks for unsent messages when no notification woke it.'),
  OUTBOX_NOTIFY: z.enum(['auto', 'in-process', 'postgres']).default('auto')
    .describe('Single process: how a commit that wrote outbox messages wakes the relay. `in-process` wakes this process\'s relay without a NOTIFY statement; `postgres` sends NOTIFY, needed when several processes share the database (replicas). `auto`: in-process for the whole process (`--role all`), postgres for the api and worker roles, which share one. The services shape always sends NOTIFY.'),
  MESSAGE_DELIVERY_CONCURRENCY: z.coerce.number().int().min(1).max(100).default(8)
    .describe('In one process: how many message keys (orders) are delivered at once to a subscriber that takes one message at a time; the consumers of the modules take batches instead, one batch per consumer at a time. Keep below DATABASE_POOL_SIZE.'),
  MESSAGE_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(5)
    .describe('Deliveries of a message to a failing consumer before it becomes a dead letter.'),
  MESSAGE_RETRY_BASE_MS: z.coerce.number().int().min(1).max(600_000).default(200)
    .describe('First retry delay of a failing consumer; doubles with each attempt, with jitter.'),
  OUTBOX_RETENTION_MINUTES: z.coerce.number().int().min(1).max(30 * 24 * 60).default(60)
    .describe('A published outbox message is deleted this long after it was sent (an unsent one is never deleted).'),
  INBOX_RETENTION_HOURS: z.coerce.number().int().min(1).max(365 * 24).default(168)
    .describe('A consumer\'s record of a handled message (its inbox row), and a replayed dead letter, is deleted this long after it was written; a copy of the message arriving later would be handled again. At least the Kafka topics\' retention and OUTBOX_RETENTION_MINUTES (docs/operations.md, Retention).'),
  PAYMENT_CALL_RETENTION_DAYS: z.coerce.number().int().min(1).max(10 * 365).default(14)
    .describe('The record of a payment provider call is deleted this long after the call, once its operation is done (a failed one waiting for an admin keeps its calls).'),
  JOB_QUEUE_RETENTION_HOURS: z.coerce.number().int().min(1).max(30 * 24).default(24)
    .describe('pg-boss deletes a finished job\'s queue entry this long after it finished (the job record, with its outcome, stays for JOB_RETENTION_DAYS).'),
  JOB_RETENTION_DAYS: z.coerce.number().int().min(1).max(10 * 365).default(30)
    .describe('A finished document job (succeeded, failed or cancelled) is deleted, with its row errors, this long after it finished; an invoice job of before invoices were drawn on download stays as long as its invoice.'),
  WEBHOOK_EVENT_RETENTION_DAYS: z.coerce.number().int()
    .min(4, 'must be at least 4 days: a payment provider webhook event is kept to recognise its redeliveries, which Stripe sends for up to 3 days')
    .max(10 * 365).default(30)
    .describe('A received payment provider webhook event is deleted this long after it arrived; a copy arriving later would be applied again. At least 4 (Stripe redelivers for up to 3 days).'),
  RETENTION_INTERVAL_SECONDS: z.coerce.number().int().min(1).max(86_400).default(60)
    .describe('How often each retention sweeper (messaging tables, idempotency keys, payment provider calls and webhook events, document jobs) deletes what is past its retention.'),
  RETENTION_BATCH_SIZE: z.coerce.number().int().min(1).max(100_000).default(1000)
    .describe('Rows one retention batch deletes at most, in one short transaction; at most 100 batches per table and sweep.'),
  RETENTION_BATCH_PAUSE_MS: z.coerce.number().int().min(0).max(60_000).default(20)
    .describe('Pause between two retention batches, so writers and vacuum keep up.'),
  DEV_IDENTITY_HEADERS: z.enum(['true', 'false']).default('false').transform((value) => value === 'true')
    .describe('Also accept the development identity headers (`x-dev-customer-id`, `x-dev-customer-email`, `x-dev-roles`) instead of a token. Never in production.'),
  IDENTITY_ISSUER: z.url().default('http://127.0.0.1:8080')
    .describe('`iss` of the access tokens OrderStream issues, and the base of its discovery document.'),
  IDENTITY_AUDIENCE: z.string().min(1).default('orderstream-api')
    .describe('`aud` of the access tokens; tokens for another audience are refused.'),
  IDENTITY_KEY_ENCRYPTION_KEY: z.string().regex(/^[A-Za-z0-9+/]{43}=$/, 'must be 32 bytes in base64 (openssl rand -base64 32)').optional()
    .describe('Encrypts the signing keys stored in the database. Unset: a key is generated once and kept in `.data/identity-key-encryption-key` (development only).'),
  IDENTITY_KEY_ENCRYPTION_KEY_PREVIOUS: z.string().regex(/^[A-Za-z0-9+/]{43}=$/, 'must be 32 bytes in base64 (openssl rand -base64 32)').optional()
    .describe('While IDENTITY_KEY_ENCRYPTION_KEY is rotated: the key it replaces, still used to read signing keys stored under it until `orderstream keys rewrap` has re-encrypted them (docs/security.md, Rotating secrets). New keys are always encrypted under IDENTITY_KEY_ENCRYPTION_KEY.'),
  ACCESS_TOKEN_TTL_SECONDS: z.coerce.number().int().min(30).max(86_400).default(900)
    .describe('Lifetime of an access token.'),
  ACCESS_TOKEN_CACHE_SIZE: z.coerce.number().int().min(0).max(1_000_000).default(10_000)
    .describe('Verified access tokens remembered by the edge (each for at most a minute, never past its expiry), so a repeat request skips the signature check; 0 checks every time.'),
  REFRESH_TOKEN_TTL_DAYS: z.coerce.number().int().min(1).max(365).default(30)
    .describe('Lifetime of a refresh token (each use rotates it).'),
  SIGNING_KEY_ROTATION_DAYS: z.coerce.number().int().min(1).max(365).default(30)
    .describe('A new signing key is made this often; the previous one stays published until its tokens expire.'),
  JWT_CLOCK_SKEW_SECONDS: z.coerce.number().int().min(0).max(300).default(30)
    .describe('Leeway for `exp` and `nbf` when verifying tokens.'),
  LOGIN_FAILURES_BEFORE_DELAY: z.coerce.number().int().min(1).max(1000).default(5)
    .describe('Failed sign-ins of one account from one client address before each further attempt from there waits (1 s, doubling); other addresses are not slowed.'),
  LOGIN_MAX_DELAY_SECONDS: z.coerce.number().int().min(1).max(86_400).default(900)
    .describe('Longest wait of one account from one address.'),
  LOGIN_ADDRESS_BUDGET: z.coerce.number().int().min(1).max(1_000_000).default(100)
    .describe('Failed sign-ins one client address may have across all accounts (password spraying) before its attempts get 429; refills evenly over `LOGIN_ADDRESS_WINDOW_SECONDS`.'),
  LOGIN_ADDRESS_WINDOW_SECONDS: z.coerce.number().int().min(1).max(86_400).default(3600)
    .describe('Time in which an address\'s spent budget refills completely.'),
  LOGIN_ACCOUNT_FAILURES_BEFORE_DELAY: z.coerce.number().int().min(1).max(1_000_000).default(20)
    .describe('Failures of one account across addresses (each address\'s first `LOGIN_FAILURES_BEFORE_DELAY` only) before every attempt for it waits: guessing spread over many addresses.'),
  LOGIN_ACCOUNT_MAX_DELAY_SECONDS: z.coerce.number().int().min(1).max(3600).default(60)
    .describe('Longest account-wide wait; kept short because the owner waits it too.'),
  LOGIN_FORGET_AFTER_SECONDS: z.coerce.number().int().min(60).max(30 * 86_400).default(86_400)
    .describe('Sign-in failures with no attempt after them for this long are forgotten.'),
  PASSWORD_HASHING_CONCURRENCY: z.coerce.number().int().min(1).max(64).optional()
    .describe('Password hashes (argon2id, at sign-in and registration) computed at once in this process; more wait or are refused instead of piling up. Unset: the number of CPU cores (one less keeps a core for everything else).'),
  PASSWORD_HASHING_QUEUE: z.coerce.number().int().min(0).max(10_000).default(64)
    .describe('Password hashes allowed to wait for a free hasher; one more is refused at once with 503 and Retry-After.'),
  PASSWORD_HASHING_MAX_WAIT_MS: z.coerce.number().int().min(10).max(60_000).default(2000)
    .describe('Longest a password hash waits for a free hasher before its request is refused with 503 and Retry-After.'),
  REQUIRE_EMAIL_VERIFICATION: z.enum(['true', 'false']).default('false').transform((value) => value === 'true')
    .describe('`POST /v1/orders` is refused (403 `email-not-verified`) for a caller whose access token says the email is not verified; the customer verifies with the emailed link (or a sign-in link), then refreshes the token.'),
  ACCOUNT_LINK_BASE_URL: z.url({ protocol: /^https?$/ }).optional()
    .describe('Base URL of the shop\'s pages that finish account emails: links are `<base>/verify-email#token=…`, `<base>/reset-password#token=…`, `<base>/sign-in#token=…` (the page posts the token to the API). Unset: the emails give the token and the API route to send it to.'),
  ACCOUNT_EMAIL_INTERVAL_SECONDS: z.coerce.number().int().min(1).max(86_400).default(60)
    .describe('Least time between two account emails of one kind (verification, password reset, sign-in link, registration notice) to one account; a request within it is answered alike and sends nothing.'),
  EXTERNAL_OIDC_ISSUERS: z.string().default('[]').transform((text, context) => {
    try {
      return externalIssuersSchema.parse(JSON.parse(text));
    } catch {
      context.addIssue({ code: 'custom', message: 'must be a JSON array of { issuer, jwksUrl, audience, rolesClaim, roleMapping }' });
      return z.NEVER;
    }
  }).describe('External OpenID issuers to trust besides the built-in one (JSON array of { issuer, jwksUrl, audience, rolesClaim, roleMapping }).'),
  AUTH_RATE_LIMIT_BURST: z.coerce.number().int().min(1).max(1_000_000).default(20)
    .describe('Sign-in, registration and token requests one client IP may make at once (a tighter bucket of its own).'),
  AUTH_RATE_LIMIT_PER_SECOND: z.coerce.number().min(0.01).max(1_000_000).default(0.2)
    .describe('Sustained sign-in, registration and token requests per second allowed per client IP.'),
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
  IDEMPOTENCY_KEY_TTL_HOURS: z.coerce.number().int().min(1).max(24 * 30).default(24)
    .describe('How long an `Idempotency-Key` of `POST /v1/orders` is remembered per customer.'),
  IDEMPOTENCY_TAKEOVER_SECONDS: z.coerce.number().int().min(1).max(24 * 3600).default(60)
    .describe('A `POST /v1/orders` still unfinished after this long counts as crashed: a retry with its `Idempotency-Key` takes the key over, and the stalled request can no longer place its order.'),
  SAGA_STEP_TIMEOUT_MS: z.coerce.number().int().min(100).max(3_600_000).default(30_000)
    .describe('How long an order waits for one saga step (reservation, authorisation, capture) before compensating.'),
  ORDER_BACKLOG_LIMIT: z.coerce.number().int().min(0).max(10_000_000).default(5000)
    .describe('Unfinished orders (accepted, not yet CONFIRMED or CANCELLED) at which `POST /v1/orders` refuses new orders with 503 and Retry-After until the sagas catch up; 0 turns the refusal off.'),
  ORDER_BACKLOG_SECONDS: z.coerce.number().min(0).max(3600).default(0)
    .describe('When above 0, new orders are also refused once the unfinished ones are more than the orders that finished per second over the last 10 s times this (at least 100 until 100 orders finished in those 10 s): accepted orders then wait about this long at most, whatever the machine manages. 0: only ORDER_BACKLOG_LIMIT applies.'),
  RESERVATION_TTL_SECONDS: z.coerce.number().int().min(1).max(7 * 24 * 3600).default(900)
    .describe('An unconfirmed stock reservation is released by itself after this long.'),
  PAYMENT_PROVIDER: z.enum(['simulated', 'stripe']).default('simulated')
    .describe('Payment provider adapter: `simulated` (test tokens, no network) or `stripe`.'),
  SIMULATED_PAYMENT_DELAY_MS: z.coerce.number().int().min(0).max(600_000).default(5000)
    .describe('How long the simulated provider takes to answer for `tok_slow`.'),
  STRIPE_API_KEY: z.string().min(1).optional()
    .describe('Stripe secret key (required when PAYMENT_PROVIDER=stripe).'),
  STRIPE_API_BASE_URL: z.url().optional()
    .describe('Override of the Stripe API address (tests point it at a local stub).'),
  STRIPE_WEBHOOK_SECRET: z.string().min(1).optional()
    .describe('Signing secret of Stripe webhooks sent to `/v1/payments/stripe/webhook`.'),
  EMAIL_TRANSPORT: z.enum(['file', 'smtp']).default('file')
    .describe('`file` writes each email as an .eml file under EMAIL_OUTBOX_DIR; `smtp` sends through SMTP_URL.'),
  EMAIL_OUTBOX_DIR: z.string().min(1).default('.data/mail-outbox')
    .describe('Folder of the `file` email transport.'),
  SMTP_URL: z.string().regex(/^smtps?:\/\//, 'must start with smtp:// or smtps://').optional()
    .describe('SMTP server, e.g. smtp://user:password@mail.example.com:587 (required when EMAIL_TRANSPORT=smtp).'),
  EMAIL_FROM: z.string().min(3).default('OrderStream <orders@orderstream.local>')
    .describe('Sender of customer emails (order emails and account emails).'),
  NOTIFICATION_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(50).default(6)
    .describe('Attempts of one email or webhook delivery before it is marked failed (dead letter).'),
  NOTIFICATION_RETRY_BASE_MS: z.coerce.number().int().min(1).max(600_000).default(1000)
    .describe('First retry delay of a failed email or webhook delivery; doubles each attempt, with jitter.'),
  WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(5000)
    .describe('How long one webhook delivery may take before it counts as failed.'),
  WEBHOOK_ALLOWED_NETWORKS: z.string().transform(networkList).optional()
    .describe('Internal networks webhooks may go to anyway, as comma-separated addresses or CIDRs, e.g. `127.0.0.0/8,::1` for a receiver on this machine. Unset: only public addresses; loopback, private, link-local and other internal ones are refused at registration and when sending. Unsafe in production: whoever can register a webhook could reach these networks.'),
  DOCUMENTS_STORE: z.enum(['filesystem', 's3']).default('filesystem')
    .describe('Where uploaded imports, invoices and error reports are kept: a folder (DOCUMENTS_DIR) or an S3 bucket (S3_*; credentials from the standard AWS variables).'),
  DOCUMENTS_DIR: z.string().min(1).default('.data/documents')
    .describe('Folder of the filesystem documents store.'),
  S3_BUCKET: z.string().min(3).max(63).optional()
    .describe('Bucket of the S3 documents store (required when DOCUMENTS_STORE=s3).'),
  S3_PREFIX: z.string().default('')
    .describe('Folder inside the bucket under which documents are kept.'),
  S3_REGION: z.string().min(1).default('us-east-1')
    .describe('Region of the S3 bucket.'),
  S3_ENDPOINT: z.url().optional()
    .describe('An S3-compatible server instead of AWS (MinIO, R2, ...).'),
  S3_FORCE_PATH_STYLE: z.enum(['true', 'false']).default('false').transform((value) => value === 'true')
    .describe('Address objects as https://host/bucket/key; most S3-compatible servers need it.'),
  IMPORT_MAX_BYTES: z.coerce.number().int().min(1024).max(10 * 1024 * 1024 * 1024).default(50 * 1024 * 1024)
    .describe('Largest CSV accepted by POST /v1/imports (the gateway streams the upload through, never holding it whole).'),
  JOB_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(2)
    .describe('Jobs of each kind (imports) run at once in this process.'),
  JOB_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(50).default(3)
    .describe('Attempts of a job before it is dead-lettered and marked failed.'),
  JOB_RETRY_DELAY_SECONDS: z.coerce.number().int().min(1).max(3600).default(5)
    .describe('First retry delay of a failed job; grows exponentially.'),
  JOB_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(86_400).default(900)
    .describe('Longest one attempt of a job may run.'),
  INVOICE_SELLER: z.string().min(1).max(200).default('OrderStream')
    .describe('Seller name printed on invoices; an invoice names the seller of the day its order was confirmed.'),
  PDF_RENDER_CONCURRENCY: z.coerce.number().int().min(1).max(16).default(1)
    .describe('Invoice PDFs drawn at once in this process (each keeps a core busy while it draws). An invoice is drawn on its first download; up to 64 more first downloads wait their turn, for at most PDF_RENDER_MAX_WAIT_MS.'),
  PDF_RENDER_MAX_WAIT_MS: z.coerce.number().int().min(10).max(60_000).default(5000)
    .describe('Longest a first download of an invoice waits for a turn to draw it before it is refused with 503 and Retry-After.'),
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url({ protocol: /^https?$/ }).optional()
    .describe('OpenTelemetry collector (OTLP/HTTP) that receives traces, e.g. http://127.0.0.1:4318 (spans go to its /v1/traces). Unset: tracing is off and costs nothing.'),
  OTEL_SERVICE_NAME: z.string().min(1).max(100).default('orderstream')
    .describe('`service.name` of the traces this process sends. Unset: `orderstream`, or `orderstream-<role>` for `start --role <role>` (several roles joined by `+`).'),
  OTEL_TRACES_SAMPLER_ARG: z.coerce.number().min(0).max(1).default(1)
    .describe('Share of new traces recorded (the argument of a parent-based trace-id ratio sampler): 1 every trace, 0.1 one in ten. A request that arrives with a `traceparent` follows its caller\'s decision.'),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000)
    .describe('How long a graceful shutdown waits for in-flight work before exiting.'),
});

export type Config = z.infer<typeof configSchema>;

/** Names whose values are never printed, in errors or logs. */
const secretKeys = new Set<string>(['DATABASE_URL', 'REDIS_URL', 'STRIPE_API_KEY', 'STRIPE_WEBHOOK_SECRET', 'SMTP_URL', 'IDENTITY_KEY_ENCRYPTION_KEY', 'IDENTITY_KEY_ENCRYPTION_KEY_PREVIOUS', 'GATEWAY_SECRET', 'GATEWAY_SECRET_PREVIOUS', 'IDENTITY_DATABASE_URL', 'CATALOG_DATABASE_URL', 'INVENTORY_DATABASE_URL', 'ORDERS_DATABASE_URL', 'PAYMENTS_DATABASE_URL', 'NOTIFICATIONS_DATABASE_URL', 'JOBS_DATABASE_URL']);

/** Thrown when the environment holds bad values; its message names every one, without their values if secret. */
export class ConfigError extends Error {
  readonly issues: readonly string[];
  constructor(issues: readonly string[]) {
    super(`Invalid configuration:\n${issues.map((issue) => `  - ${issue}`).join('\n')}`);
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

/** Reads and validates configuration from an environment; empty strings count as unset. */
export function loadConfig(env: Readonly<Record<string, string | undefined>> = process.env): Config {
  const input: Record<string, string> = {};
  for (const key of Object.keys(configSchema.shape)) {
    const value = env[key];
    if (value !== undefined && value !== '') input[key] = value;
  }
  const parsed = configSchema.safeParse(input);
  if (parsed.success) {
    const missing = requiredTogether(parsed.data);
    if (missing.length > 0) throw new ConfigError(missing);
    return parsed.data;
  }
  const issues = parsed.error.issues.map((issue) => {
    const key = issue.path.join('.');
    const shown = secretKeys.has(key) ? '(value hidden)' : JSON.stringify(input[key]);
    return `${key}=${shown}: ${issue.message}`;
  });
  throw new ConfigError(issues);
}

/** The slowest upload HTTP_REQUEST_TIMEOUT_MS must allow for the largest import (8 Mbit/s). */
const minimumUploadBytesPerSecond = 1024 * 1024;

/** Settings that only make sense with another one. */
function requiredTogether(config: Config): string[] {
  const issues: string[] = [];
  if (config.PAYMENT_PROVIDER === 'stripe' && config.STRIPE_API_KEY === undefined) issues.push('STRIPE_API_KEY: required when PAYMENT_PROVIDER=stripe');
  if (config.EMAIL_TRANSPORT === 'smtp' && config.SMTP_URL === undefined) issues.push('SMTP_URL: required when EMAIL_TRANSPORT=smtp');
  if (config.DOCUMENTS_STORE === 's3' && config.S3_BUCKET === undefined) issues.push('S3_BUCKET: required when DOCUMENTS_STORE=s3');
  // A message still in an outbox may be published again, so its consumers must still know they handled it.
  if (config.HTTP_HEADERS_TIMEOUT_MS > config.HTTP_REQUEST_TIMEOUT_MS) issues.push('HTTP_HEADERS_TIMEOUT_MS: must be at most HTTP_REQUEST_TIMEOUT_MS (the headers are part of the request)');
  if (config.IMPORT_MAX_BYTES > (config.HTTP_REQUEST_TIMEOUT_MS / 1000) * minimumUploadBytesPerSecond) {
    issues.push('HTTP_REQUEST_TIMEOUT_MS: must let an upload of IMPORT_MAX_BYTES arrive at 1 MiB/s; raise it or lower IMPORT_MAX_BYTES');
  }
  if (config.INBOX_RETENTION_HOURS * 60 < config.OUTBOX_RETENTION_MINUTES) issues.push('INBOX_RETENTION_HOURS: must cover OUTBOX_RETENTION_MINUTES (the inbox is kept at least as long as the outbox)');
  return issues;
}

/** The variables with their defaults and descriptions, for documentation. */
export function describeConfig(): { name: string; defaultValue: string; description: string }[] {
  return Object.entries(configSchema.shape).map(([name, schema]) => {
    const parsed = schema.safeParse(undefined);
    return { name, defaultValue: formatDefault(parsed.success ? parsed.data : undefined), description: schema.description ?? '' };
  });
}

function formatDefault(value: unknown): string {
  if (value === undefined) return '';
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}
