import { randomBytes } from 'node:crypto';

/** What a load run shares across its parts: its settings, the tag of its data, and small helpers. */

/** Settings of a load run: a small pool, so a burst of three times its size finds any nesting. */
export const loadRunSettings = {
  DATABASE_POOL_SIZE: '4',
  // The route answers only when a signing secret is configured, whatever the payment provider.
  STRIPE_WEBHOOK_SECRET: 'whsec_load_run',
  // Webhook deliveries to the closed endpoint die at the first failure, so there are dead ones to retry.
  NOTIFICATION_MAX_ATTEMPTS: '1',
  // That endpoint is on loopback, which webhooks may not reach unless allowed.
  WEBHOOK_ALLOWED_NETWORKS: '127.0.0.1/32',
} as const;

export const password = (email: string) => `a long enough password for ${email}`;
export const run = randomBytes(3).toString('hex').toUpperCase();

/** A random token in the form the account emails carry. */
export function unsentToken(): string {
  return randomBytes(32).toString('base64url');
}

export async function expectStatus(answer: Promise<{ status: number; body: unknown }>, status: number, what: string): Promise<unknown> {
  const { status: got, body } = await answer;
  if (got !== status) throw new Error(`${what}: expected ${String(status)}, got ${String(got)} ${JSON.stringify(body)}`);
  return body;
}

export async function inBatches<T, R>(items: readonly T[], size: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (let start = 0; start < items.length; start += size) results.push(...await Promise.all(items.slice(start, start + size).map(work)));
  return results;
}

export function range(count: number): number[] {
  return Array.from({ length: count }, (_, index) => index);
}

/** The item at `index`, wrapping around (a burst may be larger than what was arranged). */
export function at<T>(items: readonly T[], index: number): T {
  const item = items[index % items.length];
  if (item === undefined) throw new Error('nothing arranged to draw from');
  return item;
}
