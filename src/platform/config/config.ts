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
  DATABASE_POOL_SIZE: z.coerce.number().int().min(2).max(200).default(10)
    .describe('Maximum connections in the database pool (at least 2: the outbox relay holds one while consumers use another).'),
  EMBEDDED_POSTGRES_DIR: z.string().min(1).default('.data/postgres')
    .describe('Data folder of the embedded PostgreSQL (relative to the working directory).'),
  EMBEDDED_POSTGRES_PORT: z.coerce.number().int().min(0).max(65535).default(0)
    .describe('Port of the embedded PostgreSQL (0 picks a free one at each start).'),
  BODY_LIMIT_BYTES: z.coerce.number().int().min(1024).max(50 * 1024 * 1024).default(1024 * 1024)
    .describe('Largest JSON request body accepted; larger ones get 413.'),
  OUTBOX_POLL_INTERVAL_MS: z.coerce.number().int().min(10).max(60_000).default(1000)
    .describe('How often the outbox relay looks for unsent messages when no notification woke it.'),
  MESSAGE_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(5)
    .describe('Deliveries of a message to a failing consumer before it becomes a dead letter.'),
  MESSAGE_RETRY_BASE_MS: z.coerce.number().int().min(1).max(600_000).default(200)
    .describe('First retry delay of a failing consumer; doubles with each attempt, with jitter.'),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000)
    .describe('How long a graceful shutdown waits for in-flight work before exiting.'),
});

export type Config = z.infer<typeof configSchema>;

/** Names whose values are never printed, in errors or logs. */
const secretKeys = new Set<string>(['DATABASE_URL']);

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
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((issue) => {
    const key = issue.path.join('.');
    const shown = secretKeys.has(key) ? '(value hidden)' : JSON.stringify(input[key]);
    return `${key}=${shown}: ${issue.message}`;
  });
  throw new ConfigError(issues);
}

/** The variables with their defaults and descriptions, for documentation. */
export function describeConfig(): { name: string; defaultValue: string; description: string }[] {
  return Object.entries(configSchema.shape).map(([name, schema]) => {
    const parsed = schema.safeParse(undefined);
    const defaultValue = parsed.success && parsed.data !== undefined ? String(parsed.data) : '';
    return { name, defaultValue, description: schema.description ?? '' };
  });
}
