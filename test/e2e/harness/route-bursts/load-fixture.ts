import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { createIdentityModule } from '../../../../src/modules/identity/index.ts';
import { createLogger } from '../../../../src/platform/logging/logger.ts';
import { createEnvelope } from '../../../../src/platform/messaging/index.ts';
import { consumingModules } from '../../../../src/apps/module-registry.ts';
import type { BurstRequest } from '../concurrent-burst.ts';
import { waitForTerminal } from '../fulfilment-harness.ts';
import { freePort } from '../orderstream-process.ts';
import { call, signIn, type RunningShape } from '../shapes.ts';
import { at, expectStatus, inBatches, password, range, run } from './load-run.ts';

interface Account {
  email: string;
  password: string;
  token: string;
}

/** What the bursts read and use up. */
export interface LoadFixture {
  shape: RunningShape;
  admin: string;
  customers: Account[];
  serviceClient: { clientId: string; clientSecret: string };
  serviceToken: string;
  products: { id: string; sku: string }[];
  /** Confirmed orders with their owner's token. */
  orders: { id: string; token: string }[];
  deadWebhookUrl: string;
  /** Pools the bursts draw from and refill. */
  refreshTokens: string[];
  webhookIds: string[];
  jobIds: string[];
  deadLetters: Map<string, number[]>;
  /** Failed payment operations, each retried once. */
  failedPaymentOperations: number[];
}

/** Arranges a load run's data on `shape`: `size` customers, products, confirmed orders, closed webhooks, dead letters, failed payment operations. */
export async function arrangeLoadFixture(shape: RunningShape, size: number): Promise<LoadFixture> {
  const admin = await signIn(shape, `load-admin-${run.toLowerCase()}@example.com`, { admin: true });
  const refreshTokens: string[] = [];
  const customers = await inBatches(range(size), 4, async (index) => {
    const email = `load-customer-${run.toLowerCase()}-${String(index)}@example.com`;
    await expectStatus(call(shape, 'POST', '/v1/auth/register', { body: { email, password: password(email) } }), 202, `registering ${email}`);
    const pair = await expectStatus(call(shape, 'POST', '/v1/auth/login', { body: { email, password: password(email) } }), 200, `signing in ${email}`) as { accessToken: string; refreshToken: string };
    refreshTokens.push(pair.refreshToken);
    return { email, password: password(email), token: pair.accessToken };
  });

  // No API makes service clients (operators do, in identity's database); identity's own factory does it here.
  const identity = createIdentityModule({
    db: shape.databaseOf('identity'), logger: createLogger({ level: 'silent' }), issuer: 'http://127.0.0.1', audience: 'unused',
    keyEncryptionKey: randomBytes(32).toString('base64'),
    // Sends no email here: it only makes a service client.
    accountEmails: { transport: { transport: 'file', outboxDir: path.join(tmpdir(), 'orderstream-route-bursts-mail') }, from: 'OrderStream <load@orderstream.test>' },
  });
  const serviceClient = await identity.createServiceClient(`load-probe-${run.toLowerCase()}`);
  const serviceToken = (await expectStatus(call(shape, 'POST', '/v1/auth/token', {
    body: { grant_type: 'client_credentials', client_id: serviceClient.clientId, client_secret: serviceClient.clientSecret },
  }), 200, 'a service token') as { access_token: string }).access_token;

  const products = await inBatches(range(size), 4, async (index) => {
    const sku = `LOAD-${run}-P${String(index)}`;
    const created = await expectStatus(call(shape, 'POST', '/v1/products', {
      token: admin, body: { sku, name: `Load product ${String(index)}`, price: { amount: 1000 + index, currency: 'EUR' } },
    }), 201, `creating ${sku}`) as { id: string };
    await expectStatus(call(shape, 'PUT', `/v1/inventory/${sku}`, { token: admin, body: { onHand: 10_000 } }), 200, `stocking ${sku}`);
    return { id: created.id, sku };
  });

  // Nothing listens there: each delivery fails at once and, with one attempt allowed, is dead.
  const deadWebhookUrl = `http://127.0.0.1:${String(await freePort())}/hook`;
  for (let endpoint = 0; endpoint < 3; endpoint += 1) {
    await expectStatus(call(shape, 'POST', '/v1/admin/webhooks', {
      token: admin, body: { url: deadWebhookUrl, events: ['orders.confirmed', 'orders.cancelled'] },
    }), 201, 'registering a webhook');
  }

  const orders = await inBatches(range(size), 4, async (index) => {
    const customer = customers[index] as Account;
    const sku = (products[index] as { sku: string }).sku;
    const placed = await expectStatus(call(shape, 'POST', '/v1/orders', {
      token: customer.token, headers: { 'idempotency-key': crypto.randomUUID() }, body: { items: [{ sku, quantity: 1 }], payment: { token: 'tok_visa' } },
    }), 202, `placing an order of ${sku}`) as { id: string };
    return { id: placed.id, token: customer.token };
  });
  const outcomes = await waitForTerminal(shape.databaseOf('orders'), orders.map((order) => order.id), 60_000);
  const unconfirmed = [...outcomes].filter(([, outcome]) => outcome.status !== 'CONFIRMED');
  if (unconfirmed.length > 0) throw new Error(`arranged orders did not confirm: ${JSON.stringify(unconfirmed)}`);

  // Dead letters come from consumers failing every attempt, which no client can cause on purpose;
  // they are written as the messaging layer writes them, for a consumer no process runs.
  const deadLetters = new Map<string, number[]>();
  for (const module of consumingModules) {
    const ids: number[] = [];
    for (let index = 0; index < size; index += 1) {
      const envelope = createEnvelope({ type: `${module}.load-probe`, version: 1, key: `load-${String(index)}`, payload: { index } });
      const inserted = await sql<{ id: number }>`
        insert into messaging.dead_letters (consumer, message_id, envelope, attempts, last_error)
        values (${`${module}.load-probe`}, ${envelope.id}, ${JSON.stringify(envelope)}::jsonb, 5, 'failed in a load run') returning id`
        .execute(shape.databaseOf(module));
      ids.push(Number(inserted.rows[0]?.id));
    }
    deadLetters.set(module, ids);
  }

  // Payment operations fail only when the provider fails every attempt, which no client can cause;
  // they are written as the worker leaves them: voids of orders without a payment, which a retry
  // settles without calling the provider.
  const failedPaymentOperations: number[] = [];
  for (let index = 0; index < size; index += 1) {
    const inserted = await sql<{ id: number }>`
      insert into payments.operations (order_id, kind, status, attempts, outcome, detail, finished_at)
      values (${`load-${run}-void-${String(index)}`}, 'void', 'failed', 5, 'failed', 'gave up after repeated transient failures (load run)', now())
      returning id`.execute(shape.databaseOf('payments'));
    failedPaymentOperations.push(Number(inserted.rows[0]?.id));
  }

  return {
    shape, admin, customers, serviceClient, serviceToken, products, orders, deadWebhookUrl,
    refreshTokens, webhookIds: [], jobIds: [], deadLetters, failedPaymentOperations,
  };
}

/** `count` sign-ins spread over the fixture's customers (the report that started this suite: 60 at once). */
export function signInRequests(fixture: LoadFixture, count: number): BurstRequest[] {
  return range(count).map((index) => {
    const customer = at(fixture.customers, index);
    return { method: 'POST', path: '/v1/auth/login', json: { email: customer.email, password: customer.password } };
  });
}

/** Requests that prove the process still serves after a load: the catalogue, and a customer's orders (a pooled connection). */
export function normalRequests(fixture: LoadFixture): BurstRequest[] {
  return [
    { method: 'GET', path: '/v1/products' },
    { method: 'GET', path: '/v1/orders', token: at(fixture.customers, 0).token },
  ];
}
