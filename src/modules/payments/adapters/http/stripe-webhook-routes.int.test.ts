import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import Stripe from 'stripe';
import type { Database } from '../../../../platform/database/database.ts';
import { createHttpApp, type HttpApp } from '../../../../platform/http/app.ts';
import { createLogger } from '../../../../platform/logging/logger.ts';
import { messagingMigrations } from '../../../../platform/messaging/index.ts';
import { createTestDatabase, embeddedServerUrl } from '../../../../platform/testing/test-database.ts';
import { createPaymentsModule, paymentsMigrations } from '../../index.ts';
import { stripeWebhookPath } from './stripe-webhook-routes.ts';

const secret = 'whsec_test_orderstream';
let app: HttpApp;
let db: Database;
let drop: () => Promise<void>;

before(async () => {
  ({ db, drop } = await createTestDatabase(embeddedServerUrl(), [messagingMigrations, paymentsMigrations]));
  const logger = createLogger({ level: 'silent' });
  const payments = createPaymentsModule({ db, logger, provider: 'simulated', simulatedDelayMs: 0, stripeWebhookSecret: secret });
  assert.ok(payments.routes);
  app = createHttpApp({
    logger, bodyLimit: 64 * 1024, readiness: [],
    routes: [payments.routes, (scoped) => { scoped.post('/echo', (request) => ({ parsed: request.body })); }],
  });
  await app.ready();
});
after(async () => {
  await app.close();
  await drop();
});

let sequence = 0;
function anEvent(): string {
  sequence += 1;
  return JSON.stringify({
    id: `evt_test_${sequence}_${Date.now()}`, object: 'event', type: 'payment_intent.amount_capturable_updated', api_version: '2025-01-01',
    created: Math.floor(Date.now() / 1000), livemode: false,
    data: { object: { id: `pi_${sequence}`, object: 'payment_intent', amount: 4200, currency: 'eur', status: 'requires_capture' } },
  });
}

const sign = (payload: string, signingSecret = secret) => Stripe.webhooks.generateTestHeaderString({ payload, secret: signingSecret });
const send = (payload: string, signature?: string) => app.inject({
  method: 'POST', url: stripeWebhookPath, payload,
  headers: { 'content-type': 'application/json', ...(signature === undefined ? {} : { 'stripe-signature': signature }) },
});
const storedEvents = async () => (await sql<{ count: number }>`select count(*)::int as count from payments.webhook_events`.execute(db)).rows[0]?.count;

describe('POST /v1/payments/stripe/webhook', () => {
  test('when the signature matches the raw body, then 200 and the event is recorded once, even when Stripe resends it', async () => {
    const payload = anEvent();
    const first = await send(payload, sign(payload));
    assert.equal(first.statusCode, 200, first.body);
    assert.deepEqual(first.json(), { received: true, duplicate: false, applied: false });
    const resent = await send(payload, sign(payload));
    assert.deepEqual(resent.json(), { received: true, duplicate: true, applied: false });
    const { id, type } = JSON.parse(payload) as { id: string; type: string };
    const rows = await sql<{ type: string; payload: { data: { object: { id: string } } } }>`
      select type, payload from payments.webhook_events where provider = 'stripe' and event_id = ${id}`.execute(db);
    assert.deepEqual(rows.rows.map((row) => [row.type, row.payload.data.object.id]), [[type, `pi_${sequence}`]]);
  });

  test('when the body was tampered with after signing, then 400 problem+json and nothing is recorded', async () => {
    const before = await storedEvents();
    const payload = anEvent();
    const response = await send(payload.replace('4200', '1'), sign(payload));
    assert.equal(response.statusCode, 400);
    assert.match(response.headers['content-type'] ?? '', /^application\/problem\+json/);
    assert.equal(response.json<{ type: string }>().type, 'https://orderstream.dev/problems/invalid-webhook-signature');
    assert.equal(await storedEvents(), before);
  });

  test('when the Stripe-Signature header is missing, then 400 problem+json and nothing is recorded', async () => {
    const before = await storedEvents();
    const response = await send(anEvent());
    assert.equal(response.statusCode, 400);
    assert.equal(response.json<{ type: string }>().type, 'https://orderstream.dev/problems/invalid-webhook-signature');
    assert.equal(await storedEvents(), before);
  });

  test('when the body is signed with another secret, then 400 and nothing is recorded', async () => {
    const before = await storedEvents();
    const payload = anEvent();
    const response = await send(payload, sign(payload, 'whsec_someone_else'));
    assert.equal(response.statusCode, 400);
    assert.equal(await storedEvents(), before);
  });

  test('when a correctly signed body is not JSON, then 400 malformed-json, never a 500', async () => {
    const payload = '{"id": "evt_broken",';
    const response = await send(payload, sign(payload));
    assert.equal(response.statusCode, 400);
    assert.equal(response.json<{ type: string }>().type, 'https://orderstream.dev/problems/malformed-json');
  });

  test('when a correctly signed event has no id, then 400 validation-error and nothing is recorded', async () => {
    const before = await storedEvents();
    const payload = JSON.stringify({ type: 'payment_intent.created' });
    const response = await send(payload, sign(payload));
    assert.equal(response.statusCode, 400);
    assert.equal(response.json<{ type: string }>().type, 'https://orderstream.dev/problems/validation-error');
    assert.equal(await storedEvents(), before);
  });

  test('when the body is not JSON at all, then 415 problem+json and nothing is recorded', async () => {
    const before = await storedEvents();
    const response = await app.inject({ method: 'POST', url: stripeWebhookPath, headers: { 'content-type': 'text/plain', 'stripe-signature': 't=1,v1=abc' }, payload: 'hello' });
    assert.equal(response.statusCode, 415);
    assert.match(response.headers['content-type'] ?? '', /^application\/problem\+json/);
    assert.equal(await storedEvents(), before);
  });

  test('when another route receives JSON, then it is still parsed (the raw-body parser stays inside the webhook route)', async () => {
    const response = await app.inject({ method: 'POST', url: '/echo', payload: { hello: 'world' } });
    assert.deepEqual(response.json(), { parsed: { hello: 'world' } });
  });
});
