import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import Stripe from 'stripe';
import { createIdentityModule } from '../../../src/modules/identity/index.ts';
import { createLogger } from '../../../src/platform/logging/logger.ts';
import { createEnvelope, deadLetterPaths } from '../../../src/platform/messaging/index.ts';
import { auditedModules, consumingModules } from '../../../src/apps/module-registry.ts';
import type { BurstAnswer, BurstRequest } from './concurrent-burst.ts';
import { waitForTerminal } from './fulfilment-harness.ts';
import { freePort } from './orderstream-process.ts';
import { call, signIn, type RunningShape } from './shapes.ts';

/**
 * The data a load run needs, arranged through the public API (plus the few rows no client can make:
 * an admin role, a service client, dead letters, failed payment operations), and one burst of
 * valid requests per route of the route table, each request with its own input (emails,
 * idempotency keys, refresh tokens, ids).
 */

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

/** A route of the route table and how to call it many times at once. */
export interface RouteBurst {
  /** As in the route table: `POST /v1/orders/:id/cancel`. */
  route: string;
  /** Statuses of a request the route served (at least one answer of the burst must have one). */
  expected: readonly number[];
  /** `count` requests, each with its own valid input; arranges what they need first. */
  requests(count: number): Promise<BurstRequest[]>;
  /** Keeps from the answers what later bursts use (refresh tokens, ids). */
  keep?(answers: readonly BurstAnswer[]): void;
}

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

const password = (email: string) => `a long enough password for ${email}`;
const run = randomBytes(3).toString('hex').toUpperCase();

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

/**
 * One burst per route a client can call, in an order where each finds what it needs: sign-ins feed
 * refreshes, refreshes feed sign-outs, uploads feed the job routes, new webhooks feed deletions.
 */
export function routeBursts(fixtureOf: () => LoadFixture): RouteBurst[] {
  const simple = (route: string, expected: readonly number[], request: (fixture: LoadFixture, index: number) => BurstRequest): RouteBurst => ({
    route, expected,
    requests: (count) => Promise.resolve(range(count).map((index) => request(fixtureOf(), index))),
  });
  const keepRefreshTokens = (answers: readonly BurstAnswer[]) => {
    for (const answer of answers) {
      if (answer.status === 200) fixtureOf().refreshTokens.push((JSON.parse(answer.text) as { refreshToken: string }).refreshToken);
    }
  };

  let managed: string[] = [];
  const managedUsers = async (count: number): Promise<string[]> => {
    if (managed.length < count) managed = [...managed, ...await registerAccounts(fixtureOf(), count - managed.length)];
    return managed.slice(0, count);
  };

  return [
    // operations and documentation
    simple('GET /healthz', [200], () => ({ method: 'GET', path: '/healthz' })),
    simple('GET /readyz', [200], () => ({ method: 'GET', path: '/readyz' })),
    simple('GET /openapi.json', [200], () => ({ method: 'GET', path: '/openapi.json' })),
    simple('GET /docs', [200], () => ({ method: 'GET', path: '/docs' })),
    simple('GET /docs/*', [200], () => ({ method: 'GET', path: '/docs/json' })),

    // identity
    simple('POST /v1/auth/register', [202], (_fixture, index) => {
      const email = `load-new-${run.toLowerCase()}-${String(index)}-${randomBytes(3).toString('hex')}@example.com`;
      return { method: 'POST', path: '/v1/auth/register', json: { email, password: password(email) } };
    }),
    {
      ...simple('POST /v1/auth/login', [200], ({ customers }, index) => {
        const customer = at(customers, index);
        return { method: 'POST', path: '/v1/auth/login', json: { email: customer.email, password: customer.password } };
      }),
      keep: keepRefreshTokens,
    },
    {
      route: 'POST /v1/auth/refresh', expected: [200], keep: keepRefreshTokens,
      requests: async (count) => (await takeRefreshTokens(fixtureOf(), count)).map((refreshToken) => ({ method: 'POST', path: '/v1/auth/refresh', json: { refreshToken } })),
    },
    {
      route: 'POST /v1/auth/logout', expected: [204],
      requests: async (count) => (await takeRefreshTokens(fixtureOf(), count)).map((refreshToken) => ({ method: 'POST', path: '/v1/auth/logout', json: { refreshToken } })),
    },
    simple('POST /v1/auth/token', [200], ({ serviceClient }, index) => {
      const fields = { grant_type: 'client_credentials', client_id: serviceClient.clientId, client_secret: serviceClient.clientSecret };
      // OAuth clients send a form; some send JSON: both are served.
      return index % 2 === 0
        ? { method: 'POST', path: '/v1/auth/token', body: new URLSearchParams(fields) }
        : { method: 'POST', path: '/v1/auth/token', json: fields };
    }),
    // Tokens no one was sent: the route looks each up and refuses it, as it does a used or expired one.
    simple('POST /v1/auth/verify-email', [400], () => ({ method: 'POST', path: '/v1/auth/verify-email', json: { token: unsentToken() } })),
    simple('POST /v1/auth/password-reset', [202], ({ customers }, index) => ({ method: 'POST', path: '/v1/auth/password-reset', json: { email: at(customers, index).email } })),
    simple('POST /v1/auth/password-reset/complete', [400], (_fixture, index) => ({
      method: 'POST', path: '/v1/auth/password-reset/complete', json: { token: unsentToken(), newPassword: `Reset under load ${run} ${String(index)}` },
    })),
    simple('POST /v1/auth/sign-in-link', [202], ({ customers }, index) => ({ method: 'POST', path: '/v1/auth/sign-in-link', json: { email: at(customers, index).email } })),
    simple('POST /v1/auth/sign-in-link/complete', [400], () => ({ method: 'POST', path: '/v1/auth/sign-in-link/complete', json: { token: unsentToken() } })),
    // A wrong current password: hashed and refused, and the customers keep the passwords later bursts sign in with.
    simple('POST /v1/auth/password', [403], ({ customers }, index) => {
      const customer = at(customers, index);
      return { method: 'POST', path: '/v1/auth/password', token: customer.token, json: { currentPassword: `not ${customer.password}`, newPassword: `Changed under load ${run} ${String(index)}` } };
    }),
    // Accounts of their own, so no later burst loses its customers' sessions.
    {
      route: 'POST /v1/admin/users/:id/sessions/revoke', expected: [200],
      requests: async (count) => (await managedUsers(count)).map((id) => ({ method: 'POST', path: `/v1/admin/users/${id}/sessions/revoke`, token: fixtureOf().admin })),
    },
    {
      route: 'POST /v1/admin/users/:id/disable', expected: [200],
      requests: async (count) => (await managedUsers(count)).map((id) => ({ method: 'POST', path: `/v1/admin/users/${id}/disable`, token: fixtureOf().admin })),
    },
    {
      route: 'POST /v1/admin/users/:id/enable', expected: [200],
      requests: async (count) => (await managedUsers(count)).map((id) => ({ method: 'POST', path: `/v1/admin/users/${id}/enable`, token: fixtureOf().admin })),
    },
    simple('GET /.well-known/jwks.json', [200], () => ({ method: 'GET', path: '/.well-known/jwks.json' })),
    simple('GET /.well-known/openid-configuration', [200], () => ({ method: 'GET', path: '/.well-known/openid-configuration' })),

    // catalogue
    simple('GET /v1/products', [200], (_fixture, index) => ({
      method: 'GET', path: ['/v1/products', `/v1/products?limit=${String(1 + index)}`, '/v1/products?q=Load', `/v1/products?minPrice=1000&maxPrice=${String(1005 + index)}`][index % 4] ?? '/v1/products',
    })),
    simple('GET /v1/products/:id', [200], ({ products }, index) => ({ method: 'GET', path: `/v1/products/${at(products, index).id}` })),
    simple('POST /v1/products', [201], ({ admin }, index) => ({
      method: 'POST', path: '/v1/products', token: admin,
      json: { sku: `LOAD-${run}-NEW${String(index)}`, name: `New load product ${String(index)}`, description: 'Made under load', price: { amount: 500 + index, currency: 'EUR' } },
    })),
    simple('PATCH /v1/products/:id', [200], ({ admin, products }, index) => ({
      method: 'PATCH', path: `/v1/products/${at(products, index).id}`, token: admin, json: { description: `Changed under load (${String(index)})` },
    })),
    simple('POST /internal/v1/catalog/product-snapshots', [200], ({ serviceToken, products }, index) => ({
      method: 'POST', path: '/internal/v1/catalog/product-snapshots', token: serviceToken, json: { skus: [at(products, index).sku, at(products, index + 1).sku] },
    })),
    simple('PUT /internal/v1/catalog/products/:sku', [200], ({ serviceToken }, index) => ({
      method: 'PUT', path: `/internal/v1/catalog/products/LOAD-${run}-SVC${String(index)}`, token: serviceToken,
      json: { name: `Service product ${String(index)}`, description: '', price: { amount: 700 + index, currency: 'EUR' } },
    })),

    // inventory
    simple('GET /v1/inventory/:sku', [200], ({ admin, products }, index) => ({ method: 'GET', path: `/v1/inventory/${at(products, index).sku}`, token: admin })),
    simple('PUT /v1/inventory/:sku', [200], ({ admin, products }, index) => ({
      method: 'PUT', path: `/v1/inventory/${at(products, index).sku}`, token: admin, json: { onHand: 10_000 + index },
    })),
    simple('PUT /internal/v1/inventory/stock-levels/:sku', [200], ({ serviceToken }, index) => ({
      method: 'PUT', path: `/internal/v1/inventory/stock-levels/LOAD-${run}-SVC${String(index)}`, token: serviceToken, json: { onHand: 50 + index },
    })),

    // orders
    simple('POST /v1/orders', [202], ({ customers, products }, index) => ({
      method: 'POST', path: '/v1/orders', token: at(customers, index).token, headers: { 'idempotency-key': crypto.randomUUID() },
      json: { items: [{ sku: at(products, index).sku, quantity: 1 + (index % 3) }], payment: { token: 'tok_visa' } },
    })),
    simple('GET /v1/orders', [200], ({ customers }, index) => ({ method: 'GET', path: `/v1/orders?limit=${String(1 + (index % 5))}`, token: at(customers, index).token })),
    simple('GET /v1/orders/:id', [200], ({ orders }, index) => ({ method: 'GET', path: `/v1/orders/${at(orders, index).id}`, token: at(orders, index).token })),
    simple('GET /v1/orders/:id/invoice', [200, 404], ({ orders }, index) => ({ method: 'GET', path: `/v1/orders/${at(orders, index).id}/invoice`, token: at(orders, index).token })),
    simple('POST /v1/orders/:id/cancel', [202], ({ orders }, index) => ({ method: 'POST', path: `/v1/orders/${at(orders, index).id}/cancel`, token: at(orders, index).token })),

    // document jobs
    {
      ...simple('POST /v1/imports', [202], ({ admin }, index) => ({ method: 'POST', path: '/v1/imports', token: admin, body: importUpload(index) })),
      keep: (answers) => {
        for (const answer of answers) if (answer.status === 202) fixtureOf().jobIds.push((JSON.parse(answer.text) as { id: string }).id);
      },
    },
    simple('GET /v1/jobs', [200], ({ admin }, index) => ({ method: 'GET', path: `/v1/jobs?limit=${String(1 + index)}`, token: admin })),
    {
      route: 'GET /v1/jobs/:id', expected: [200],
      requests: async (count) => (await jobIds(fixtureOf(), count)).map((id) => ({ method: 'GET', path: `/v1/jobs/${id}`, token: fixtureOf().admin })),
    },
    {
      route: 'GET /v1/jobs/:id/errors.csv', expected: [200],
      requests: async (count) => (await jobIds(fixtureOf(), count)).map((id) => ({ method: 'GET', path: `/v1/jobs/${id}/errors.csv`, token: fixtureOf().admin })),
    },
    {
      // Most uploads have finished by now (409); the ones still queued or running are cancelled.
      route: 'POST /v1/jobs/:id/cancel', expected: [200, 409],
      requests: async (count) => (await jobIds(fixtureOf(), count)).map((id) => ({ method: 'POST', path: `/v1/jobs/${id}/cancel`, token: fixtureOf().admin })),
    },

    // notifications administration
    {
      ...simple('POST /v1/admin/webhooks', [201], ({ admin, deadWebhookUrl }, index) => ({
        method: 'POST', path: '/v1/admin/webhooks', token: admin, json: { url: `${deadWebhookUrl}?endpoint=${String(index)}`, events: ['orders.cancelled'] },
      })),
      keep: (answers) => {
        for (const answer of answers) if (answer.status === 201) fixtureOf().webhookIds.push((JSON.parse(answer.text) as { id: string }).id);
      },
    },
    ...auditedModules.map((module) => simple(`GET /v1/admin/${module}/audit`, [200], ({ admin }, index) => ({
      method: 'GET', path: [`/v1/admin/${module}/audit`, `/v1/admin/${module}/audit?limit=${String(1 + index)}`][index % 2] ?? '', token: admin,
    }))),
    simple('GET /v1/admin/webhooks', [200], ({ admin }, index) => ({ method: 'GET', path: `/v1/admin/webhooks?limit=${String(1 + index)}`, token: admin })),
    {
      // The endpoints stay for the deletions below.
      route: 'POST /v1/admin/webhooks/:id/secret/roll', expected: [200],
      requests: async (count) => {
        const ids = await webhookIds(fixtureOf(), count);
        fixtureOf().webhookIds.push(...ids);
        return ids.map((id) => ({ method: 'POST', path: `/v1/admin/webhooks/${id}/secret/roll`, token: fixtureOf().admin, json: { overlapSeconds: 60 } }));
      },
    },
    {
      route: 'DELETE /v1/admin/webhooks/:id', expected: [204],
      requests: async (count) => (await webhookIds(fixtureOf(), count)).map((id) => ({ method: 'DELETE', path: `/v1/admin/webhooks/${id}`, token: fixtureOf().admin })),
    },
    simple('GET /v1/admin/webhook-deliveries', [200], ({ admin }, index) => ({
      method: 'GET', path: ['/v1/admin/webhook-deliveries', '/v1/admin/webhook-deliveries?status=dead', `/v1/admin/webhook-deliveries?limit=${String(1 + index)}`][index % 3] ?? '',
      token: admin,
    })),
    {
      route: 'POST /v1/admin/webhook-deliveries/:id/retry', expected: [202],
      requests: async (count) => (await deadDeliveryIds(fixtureOf(), count)).map((id) => ({
        method: 'POST', path: `/v1/admin/webhook-deliveries/${id}/retry`, token: fixtureOf().admin,
      })),
    },
    simple('GET /v1/admin/email-deliveries', [200], ({ admin }, index) => ({
      method: 'GET', path: ['/v1/admin/email-deliveries', '/v1/admin/email-deliveries?status=dead', `/v1/admin/email-deliveries?limit=${String(1 + index)}`][index % 3] ?? '',
      token: admin,
    })),
    {
      route: 'POST /v1/admin/email-deliveries/:id/retry', expected: [202],
      requests: async (count) => (await deadEmailDeliveryIds(fixtureOf(), count)).map((id) => ({
        method: 'POST', path: `/v1/admin/email-deliveries/${id}/retry`, token: fixtureOf().admin,
      })),
    },

    // payments administration
    simple('GET /v1/admin/payment-operations', [200], ({ admin }, index) => ({
      method: 'GET', path: ['/v1/admin/payment-operations', '/v1/admin/payment-operations?status=pending', `/v1/admin/payment-operations?status=failed&limit=${String(1 + index)}`][index % 3] ?? '',
      token: admin,
    })),
    {
      route: 'POST /v1/admin/payment-operations/:id/retry', expected: [202],
      requests: (count) => Promise.resolve(fixtureOf().failedPaymentOperations.splice(0, count).map((id) => ({
        method: 'POST', path: `/v1/admin/payment-operations/${String(id)}/retry`, token: fixtureOf().admin,
      }))),
    },

    // dead letters, per module
    ...consumingModules.flatMap((module): RouteBurst[] => [
      simple(`GET ${deadLetterPaths(module).list}`, [200], ({ admin }, index) => ({
        method: 'GET', path: `${deadLetterPaths(module).list}?limit=${String(1 + index)}`, token: admin,
      })),
      simple(`POST ${deadLetterPaths(module).replay}`, [202], ({ admin, deadLetters }, index) => ({
        method: 'POST', path: deadLetterPaths(module).replay.replace(':id', String(at(deadLetters.get(module) ?? [], index))), token: admin,
      })),
    ]),

    // payment provider callbacks
    simple('POST /v1/payments/stripe/webhook', [200], (_fixture, index) => {
      const payload = JSON.stringify({
        id: `evt_load_${run}_${String(index)}_${randomBytes(4).toString('hex')}`, object: 'event', type: 'payment_intent.amount_capturable_updated',
        api_version: '2025-01-01', created: Math.floor(Date.now() / 1000), livemode: false,
        data: { object: { id: `pi_load_${String(index)}`, object: 'payment_intent', amount: 1000, currency: 'eur', status: 'requires_capture' } },
      });
      const signature = Stripe.webhooks.generateTestHeaderString({ payload, secret: loadRunSettings.STRIPE_WEBHOOK_SECRET });
      return { method: 'POST', path: '/v1/payments/stripe/webhook', headers: { 'content-type': 'application/json', 'stripe-signature': signature }, body: payload };
    }),
  ];
}

/** A catalogue upload of two good rows and one bad one (so its error report has a line). */
function importUpload(index: number): FormData {
  const csv = [
    'sku,name,description,price,currency,stock',
    `LOAD-${run}-IMP${String(index)}A,Imported ${String(index)} A,From a load run,1200,EUR,10`,
    `LOAD-${run}-IMP${String(index)}B,Imported ${String(index)} B,From a load run,1300,EUR,20`,
    `LOAD-${run}-IMP${String(index)}C,Imported ${String(index)} C,A bad price,-5,EUR,1`,
  ].join('\n');
  const form = new FormData();
  form.append('file', new Blob([csv], { type: 'text/csv' }), `load-${String(index)}.csv`);
  return form;
}

/** `count` unused refresh tokens: those earlier bursts kept, topped up by signing in one at a time. */
async function takeRefreshTokens(fixture: LoadFixture, count: number): Promise<string[]> {
  for (let index = 0; fixture.refreshTokens.length < count; index += 1) {
    const customer = at(fixture.customers, index);
    const pair = await expectStatus(call(fixture.shape, 'POST', '/v1/auth/login', { body: { email: customer.email, password: customer.password } }), 200, 'a refresh token') as { refreshToken: string };
    fixture.refreshTokens.push(pair.refreshToken);
  }
  return fixture.refreshTokens.splice(0, count);
}

/** `count` job ids (repeating when fewer exist): the uploads' jobs, topped up with one upload if there are none. */
async function jobIds(fixture: LoadFixture, count: number): Promise<string[]> {
  if (fixture.jobIds.length === 0) {
    const response = await fetch(`${fixture.shape.baseUrl}/v1/imports`, { method: 'POST', headers: { authorization: `Bearer ${fixture.admin}` }, body: importUpload(999) });
    if (response.status !== 202) throw new Error(`uploading an import failed: ${String(response.status)} ${await response.text()}`);
    fixture.jobIds.push((await response.json() as { id: string }).id);
  }
  return range(count).map((index) => at(fixture.jobIds, index));
}

/** `count` webhook endpoints to delete, each once: the ones the create burst made, topped up by registering more. */
/** A random token in the form the account emails carry. */
function unsentToken(): string {
  return randomBytes(32).toString('base64url');
}

/** `count` new accounts, registered and signed in once, by user id (the access token's subject). */
async function registerAccounts(fixture: LoadFixture, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (const index of range(count)) {
    const email = `load-managed-${run.toLowerCase()}-${String(index)}-${randomBytes(3).toString('hex')}@example.com`;
    await expectStatus(call(fixture.shape, 'POST', '/v1/auth/register', { body: { email, password: password(email) } }), 202, `registering ${email}`);
    const pair = await expectStatus(call(fixture.shape, 'POST', '/v1/auth/login', { body: { email, password: password(email) } }), 200, `signing in ${email}`) as { accessToken: string };
    const claims = JSON.parse(Buffer.from(pair.accessToken.split('.')[1] ?? '', 'base64url').toString('utf8')) as { sub: string };
    ids.push(claims.sub);
  }
  return ids;
}

async function webhookIds(fixture: LoadFixture, count: number): Promise<string[]> {
  while (fixture.webhookIds.length < count) {
    const created = await expectStatus(call(fixture.shape, 'POST', '/v1/admin/webhooks', {
      token: fixture.admin, body: { url: fixture.deadWebhookUrl, events: ['orders.cancelled'] },
    }), 201, 'registering a webhook') as { id: string };
    fixture.webhookIds.push(created.id);
  }
  return fixture.webhookIds.splice(0, count);
}

/** `count` dead webhook deliveries, each retried once, waiting (up to 30 s) for the arranged orders' deliveries to die. */
async function deadDeliveryIds(fixture: LoadFixture, count: number): Promise<string[]> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const page = await expectStatus(call(fixture.shape, 'GET', '/v1/admin/webhook-deliveries?status=dead&limit=100', { token: fixture.admin }), 200, 'listing dead deliveries') as { items: { id: string }[] };
    if (page.items.length >= count) return page.items.slice(0, count).map((item) => item.id);
    if (Date.now() > deadline) throw new Error(`only ${String(page.items.length)} webhook deliveries were dead after 30 s; ${String(count)} are needed`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/**
 * `count` dead email deliveries, each retried once. Emails die only when the mail server refuses
 * every attempt, which no client can cause (a load run writes emails to files); they are written as
 * the worker leaves them, to other addresses of the arranged orders' confirmations, waiting (up to
 * 30 s) for notifications to have recorded those.
 */
async function deadEmailDeliveryIds(fixture: LoadFixture, count: number): Promise<string[]> {
  const db = fixture.shape.databaseOf('notifications');
  const orderIds = fixture.orders.map((order) => order.id);
  const deadline = Date.now() + 30_000;
  for (;;) {
    const events = await sql<{ id: string }>`
      select id from notifications.events where type = 'orders.confirmed' and order_id = any(${orderIds}) order by id`.execute(db);
    if (events.rows.length > 0) {
      const ids = range(count).map(() => `dlv_${crypto.randomUUID()}`);
      await sql`
        insert into notifications.deliveries (id, event_id, channel, recipient, endpoint_id, status, attempts, next_attempt_at, last_error, created_at)
        select id, event_id, 'email', recipient, null, 'dead', 1, now(), 'the mail server refused (load run)', now()
        from unnest(${ids}::text[], ${ids.map((_, index) => at(events.rows, index).id)}::uuid[], ${ids.map((id) => `load-dead-${id}@example.com`)}::text[])
          as arranged(id, event_id, recipient)`.execute(db);
      return ids;
    }
    if (Date.now() > deadline) throw new Error('no confirmation of the arranged orders was recorded by notifications after 30 s');
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function expectStatus(answer: Promise<{ status: number; body: unknown }>, status: number, what: string): Promise<unknown> {
  const { status: got, body } = await answer;
  if (got !== status) throw new Error(`${what}: expected ${String(status)}, got ${String(got)} ${JSON.stringify(body)}`);
  return body;
}

async function inBatches<T, R>(items: readonly T[], size: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (let start = 0; start < items.length; start += size) results.push(...await Promise.all(items.slice(start, start + size).map(work)));
  return results;
}

function range(count: number): number[] {
  return Array.from({ length: count }, (_, index) => index);
}

/** The item at `index`, wrapping around (a burst may be larger than what was arranged). */
function at<T>(items: readonly T[], index: number): T {
  const item = items[index % items.length];
  if (item === undefined) throw new Error('nothing arranged to draw from');
  return item;
}
