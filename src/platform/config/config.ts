import { z } from 'zod';

/** Environment variables OrderStream reads, with their meaning; the README's table is checked against this list. */
export const configSchema = z.object({
  HOST: z.string().min(1).default('127.0.0.1')
    .describe('Interface the HTTP server listens on.'),
  PORT: z.coerce.number().int().min(0).max(65535).default(8080)
    .describe('HTTP port (0 picks a free one).'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info')
    .describe('Minimum level of the JSON log lines written to standard output.'),
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional()
    .describe('PostgreSQL connection string. Unset: an embedded PostgreSQL is started from node_modules.'),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(2).max(200).default(20)
    .describe('Maximum connections in the database pool (at least 2: the outbox relay holds one while consumers use another).'),
  EMBEDDED_POSTGRES_DIR: z.string().min(1).default('.data/postgres')
    .describe('Data folder of the embedded PostgreSQL (relative to the working directory).'),
  EMBEDDED_POSTGRES_PORT: z.coerce.number().int().min(0).max(65535).default(0)
    .describe('Port of the embedded PostgreSQL (0 picks a free one at each start).'),
  BODY_LIMIT_BYTES: z.coerce.number().int().min(1024).max(50 * 1024 * 1024).default(1024 * 1024)
    .describe('Largest JSON request body accepted; larger ones get 413.'),
  OUTBOX_POLL_INTERVAL_MS: z.coerce.number().int().min(10).max(60_000).default(1000)
    .describe('How often the outbox relay looks for unsent messages when no notification woke it.'),
  MESSAGE_DELIVERY_CONCURRENCY: z.coerce.number().int().min(1).max(100).default(8)
    .describe('In one process: how many message keys (orders) are delivered to consumers at once; keep below DATABASE_POOL_SIZE.'),
  MESSAGE_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(5)
    .describe('Deliveries of a message to a failing consumer before it becomes a dead letter.'),
  MESSAGE_RETRY_BASE_MS: z.coerce.number().int().min(1).max(600_000).default(200)
    .describe('First retry delay of a failing consumer; doubles with each attempt, with jitter.'),
  DEV_IDENTITY_HEADERS: z.enum(['true', 'false']).default('true').transform((value) => value === 'true')
    .describe('Accept the development identity headers (`x-dev-customer-id`, `x-dev-customer-email`, `x-dev-roles`) until the gateway verifies tokens.'),
  IDEMPOTENCY_KEY_TTL_HOURS: z.coerce.number().int().min(1).max(24 * 30).default(24)
    .describe('How long an `Idempotency-Key` of `POST /v1/orders` is remembered per customer.'),
  SAGA_STEP_TIMEOUT_MS: z.coerce.number().int().min(100).max(3_600_000).default(30_000)
    .describe('How long an order waits for one saga step (reservation, authorisation, capture) before compensating.'),
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
    .describe('Sender of customer emails.'),
  NOTIFICATION_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(50).default(6)
    .describe('Attempts of one email or webhook delivery before it is marked failed (dead letter).'),
  NOTIFICATION_RETRY_BASE_MS: z.coerce.number().int().min(1).max(600_000).default(1000)
    .describe('First retry delay of a failed email or webhook delivery; doubles each attempt, with jitter.'),
  WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(5000)
    .describe('How long one webhook delivery may take before it counts as failed.'),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000)
    .describe('How long a graceful shutdown waits for in-flight work before exiting.'),
});

export type Config = z.infer<typeof configSchema>;

/** Names whose values are never printed, in errors or logs. */
const secretKeys = new Set<string>(['DATABASE_URL', 'STRIPE_API_KEY', 'STRIPE_WEBHOOK_SECRET', 'SMTP_URL']);

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

/** Settings that only make sense with another one. */
function requiredTogether(config: Config): string[] {
  const issues: string[] = [];
  if (config.PAYMENT_PROVIDER === 'stripe' && config.STRIPE_API_KEY === undefined) issues.push('STRIPE_API_KEY: required when PAYMENT_PROVIDER=stripe');
  if (config.EMAIL_TRANSPORT === 'smtp' && config.SMTP_URL === undefined) issues.push('SMTP_URL: required when EMAIL_TRANSPORT=smtp');
  return issues;
}

/** The variables with their defaults and descriptions, for documentation. */
export function describeConfig(): { name: string; defaultValue: string; description: string }[] {
  return Object.entries(configSchema.shape).map(([name, schema]) => {
    const parsed = schema.safeParse(undefined);
    const defaultValue = parsed.success && parsed.data !== undefined ? String(parsed.data) : '';
    return { name, defaultValue, description: schema.description ?? '' };
  });
}
