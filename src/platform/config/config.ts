import { z } from 'zod';
import { catalogVariables } from './config-catalog.ts';
import { databasePoolVariables, databaseUrlVariables, retentionVariables } from './config-database.ts';
import { documentVariables } from './config-documents.ts';
import { edgeVariables } from './config-edge.ts';
import { identityVariables } from './config-identity.ts';
import { deliveryVariables, kafkaVariables } from './config-messaging.ts';
import { notificationVariables } from './config-notifications.ts';
import { orderVariables } from './config-orders.ts';
import { paymentVariables } from './config-payments.ts';
import { httpVariables, listenerVariables, tracingAndShutdownVariables } from './config-process.ts';

/**
 * Environment variables OrderStream reads, with their meaning; the README's table is checked against this list,
 * in this order. Each area declares its own in a config-*.ts file beside this one.
 */
export const configSchema = z.object({
  ...listenerVariables,
  ...databaseUrlVariables,
  ...kafkaVariables,
  ...catalogVariables,
  ...databasePoolVariables,
  ...httpVariables,
  ...deliveryVariables,
  ...retentionVariables,
  ...identityVariables,
  ...edgeVariables,
  ...orderVariables,
  ...paymentVariables,
  ...notificationVariables,
  ...documentVariables,
  ...tracingAndShutdownVariables,
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
