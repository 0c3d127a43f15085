import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import type { BackgroundTask } from '../../../../platform/background/background-loop.ts';
import type { Database } from '../../../../platform/database/database.ts';
import { createHttpApp, type HttpApp } from '../../../../platform/http/app.ts';
import { createLogger } from '../../../../platform/logging/logger.ts';
import { auditMigrations } from '../../../../platform/audit/index.ts';
import { appendToOutbox, createMessaging, messagingMigrations, InProcessTransport, type Messaging } from '../../../../platform/messaging/index.ts';
import { createTestDatabase, embeddedServerUrl } from '../../../../platform/testing/test-database.ts';
import { createNotificationsModule, notificationsMigrations } from '../../index.ts';
import { startLocalSmtpServer } from '../../testing/local-smtp-server.ts';
import { aConfirmedNotificationEvent, orderConfirmedEnvelope } from '../../testing/order-event-builders.ts';
import { aPublicAddress, testResolver } from '../../testing/test-resolver.ts';

/**
 * The email admin API through HTTP, with the module sending through a real SMTP server on loopback
 * that can be made to refuse every message.
 */
const maxAttempts = 2;
let app: HttpApp;
let db: Database;
let drop: () => Promise<void>;
let smtp: Awaited<ReturnType<typeof startLocalSmtpServer>>;
let messaging: Messaging;
let background: BackgroundTask[];

before(async () => {
  ({ db, drop } = await createTestDatabase(embeddedServerUrl(), [messagingMigrations, auditMigrations, notificationsMigrations]));
  smtp = await startLocalSmtpServer();
  const logger = createLogger({ level: 'silent' });
  const notifications = createNotificationsModule({
    db, logger, email: { transport: 'smtp', smtpUrl: smtp.url }, emailFrom: 'orders@orderstream.test',
    maxAttempts, retryBaseMs: 10, webhookTimeoutMs: 1000, workerIntervalMs: 50,
    resolveHost: testResolver({ 'shop.example.com': [aPublicAddress] }).resolveHost,
  });
  messaging = createMessaging({ db, transport: new InProcessTransport(), logger, retryPolicy: { maxAttempts: 3, baseDelayMs: 20 }, pollIntervalMs: 1000 });
  for (const consumer of notifications.consumers) messaging.register(consumer);
  background = notifications.background;
  for (const task of background) task.start();
  app = createHttpApp({ logger, bodyLimit: 16 * 1024, routes: [notifications.routes], readiness: [] });
  await app.ready();
});
after(async () => {
  await Promise.all(background.map((task) => task.stop()));
  await app.close();
  await smtp.close();
  await drop();
});

/** An email delivery of a confirmation, stored directly in the given status (a dead one as the worker leaves it). */
async function anEmailDelivery(status: 'pending' | 'sent' | 'dead'): Promise<string> {
  const event = aConfirmedNotificationEvent();
  const eventId = event.id;
  const id = `dlv_${crypto.randomUUID()}`;
  await sql`insert into notifications.events (id, type, order_id, occurred_at, notice, data)
    values (${eventId}, 'orders.confirmed', ${event.orderId}, now(), ${JSON.stringify(event.notice)}::jsonb, ${JSON.stringify(event.data)}::jsonb)`.execute(db);
  await sql`insert into notifications.deliveries (id, event_id, channel, recipient, endpoint_id, status, attempts, next_attempt_at, last_error, created_at)
    values (${id}, ${eventId}, 'email', ${`customer-${eventId}@example.com`}, null, ${status}, 2, now() + interval '1 hour', 'Mailbox unavailable', now())`.execute(db);
  return id;
}

/** A dead webhook delivery to a registered endpoint, stored directly. */
async function aDeadWebhookDelivery(): Promise<string> {
  const endpoint = (await app.inject({ method: 'POST', url: '/v1/admin/webhooks', payload: { url: 'https://shop.example.com/hooks', events: ['orders.cancelled'] } })).json<{ id: string }>();
  const eventId = crypto.randomUUID();
  const id = `dlv_${crypto.randomUUID()}`;
  await sql`insert into notifications.events (id, type, order_id, occurred_at, notice, data)
    values (${eventId}, 'orders.confirmed', ${`ord_${eventId}`}, now(), '{}'::jsonb, '{}'::jsonb)`.execute(db);
  await sql`insert into notifications.deliveries (id, event_id, channel, recipient, endpoint_id, status, attempts, next_attempt_at, last_error, created_at)
    values (${id}, ${eventId}, 'webhook', ${endpoint.id}, ${endpoint.id}, 'dead', 3, now(), 'answered 500', now())`.execute(db);
  return id;
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

async function emailOf(orderId: string): Promise<{ id: string; status: string; attempts: number } | undefined> {
  return (await sql<{ id: string; status: string; attempts: number }>`
    select d.id, d.status, d.attempts from notifications.deliveries d join notifications.events e on e.id = d.event_id
    where e.order_id = ${orderId} and d.channel = 'email'`.execute(db)).rows[0];
}

/** Announcements of `type` about the order's email. */
async function announced(orderId: string, type: string): Promise<number> {
  return (await sql<{ count: number }>`
    select count(*)::int as count from messaging.outbox where key = ${orderId} and type = ${type} and payload->>'channel' = 'email'`.execute(db)).rows[0]?.count ?? -1;
}

describe('GET /v1/admin/email-deliveries', () => {
  test('when listing with status=dead, then only dead email deliveries come back, with their address and event; a bad status or cursor is 400', async () => {
    const dead = await anEmailDelivery('dead');
    const sent = await anEmailDelivery('sent');
    const response = await app.inject({ method: 'GET', url: '/v1/admin/email-deliveries?status=dead&limit=100' });
    assert.equal(response.statusCode, 200, response.body);
    const items = response.json<{ items: { id: string; status: string; to: string; eventType: string; lastError: string; attempts: number; nextAttemptAt: string | null }[] }>().items;
    const found = items.find((item) => item.id === dead);
    assert.deepEqual(
      [found?.status, found?.eventType, found?.lastError, found?.attempts, found?.nextAttemptAt],
      ['dead', 'orders.confirmed', 'Mailbox unavailable', 2, null],
    );
    assert.match(found?.to ?? '', /^customer-.+@example\.com$/);
    assert.ok(items.every((item) => item.status === 'dead'));
    assert.ok(!items.some((item) => item.id === sent));
    assert.equal((await app.inject({ method: 'GET', url: '/v1/admin/email-deliveries?status=lost' })).statusCode, 400);
    const badCursor = await app.inject({ method: 'GET', url: '/v1/admin/email-deliveries?cursor=abc' });
    assert.equal(badCursor.statusCode, 400);
    assert.ok(badCursor.json<{ errors: { field: string }[] }>().errors.some((error) => error.field === 'cursor'));
  });

  test('when webhook deliveries exist too, then the email list shows none of them, and the webhook list none of the emails', async () => {
    const email = await anEmailDelivery('dead');
    const webhook = await aDeadWebhookDelivery();
    const webhooks = (await app.inject({ method: 'GET', url: '/v1/admin/webhook-deliveries?status=dead&limit=100' })).json<{ items: { id: string }[] }>().items.map((item) => item.id);
    assert.deepEqual([webhooks.includes(webhook), webhooks.includes(email)], [true, false]);
    const emails = (await app.inject({ method: 'GET', url: '/v1/admin/email-deliveries?status=dead&limit=100' })).json<{ items: { id: string }[] }>().items.map((item) => item.id);
    assert.deepEqual([emails.includes(email), emails.includes(webhook)], [true, false]);
  });

  test('when listing with orderId, then only the deliveries of that order\'s events come back on each channel, of any status unless one is asked', async () => {
    const orderId = `ord_${crypto.randomUUID()}`;
    const endpoint = (await app.inject({ method: 'POST', url: '/v1/admin/webhooks', payload: { url: 'https://shop.example.com/hooks', events: ['orders.confirmed'] } })).json<{ id: string }>();
    let createdAt = Date.now();
    const deliveriesOf = async (type: string, statuses: { email: string; webhook: string }) => {
      const eventId = crypto.randomUUID();
      await sql`insert into notifications.events (id, type, order_id, occurred_at, notice, data)
        values (${eventId}, ${type}, ${orderId}, now(), '{}'::jsonb, '{}'::jsonb)`.execute(db);
      const ids = { email: `dlv_${crypto.randomUUID()}`, webhook: `dlv_${crypto.randomUUID()}` };
      // Whole milliseconds, as the module writes them (a page cursor carries milliseconds).
      createdAt += 1000;
      await sql`insert into notifications.deliveries (id, event_id, channel, recipient, endpoint_id, status, attempts, next_attempt_at, created_at)
        values (${ids.email}, ${eventId}, 'email', 'ada@example.com', null, ${statuses.email}, 1, now() + interval '1 hour', ${new Date(createdAt)}),
               (${ids.webhook}, ${eventId}, 'webhook', ${endpoint.id}, ${endpoint.id}, ${statuses.webhook}, 1, now() + interval '1 hour', ${new Date(createdAt)})`.execute(db);
      return ids;
    };
    const confirmed = await deliveriesOf('orders.confirmed', { email: 'sent', webhook: 'dead' });
    const cancelled = await deliveriesOf('orders.cancelled', { email: 'dead', webhook: 'sent' });
    const otherOrder = await anEmailDelivery('dead');
    const list = async (url: string) => {
      const response = await app.inject({ method: 'GET', url });
      assert.equal(response.statusCode, 200, response.body);
      return response.json<{ items: { id: string; orderId: string }[] }>().items;
    };

    const emails = await list(`/v1/admin/email-deliveries?orderId=${orderId}`);
    assert.deepEqual(emails.map((item) => item.id), [confirmed.email, cancelled.email]);
    assert.ok(emails.every((item) => item.orderId === orderId) && !emails.some((item) => item.id === otherOrder));
    assert.deepEqual((await list(`/v1/admin/webhook-deliveries?orderId=${orderId}`)).map((item) => item.id), [confirmed.webhook, cancelled.webhook]);
    assert.deepEqual((await list(`/v1/admin/email-deliveries?orderId=${orderId}&status=dead`)).map((item) => item.id), [cancelled.email]);
    assert.deepEqual((await list(`/v1/admin/webhook-deliveries?orderId=${orderId}&status=dead`)).map((item) => item.id), [confirmed.webhook]);
    const firstPage = await app.inject({ method: 'GET', url: `/v1/admin/email-deliveries?orderId=${orderId}&limit=1` });
    const next = firstPage.json<{ nextCursor: string }>().nextCursor;
    assert.deepEqual((await list(`/v1/admin/email-deliveries?orderId=${orderId}&limit=1&cursor=${encodeURIComponent(next)}`)).map((item) => item.id), [cancelled.email]);
    for (const collection of ['email-deliveries', 'webhook-deliveries']) {
      const bad = await app.inject({ method: 'GET', url: `/v1/admin/${collection}?orderId=${'x'.repeat(101)}` });
      assert.equal(bad.statusCode, 400, bad.body);
      assert.ok(bad.json<{ errors: { field: string }[] }>().errors.some((error) => error.field === 'orderId'));
    }
  });
});

describe('POST /v1/admin/email-deliveries/{id}/retry', () => {
  test('when a dead email is retried, then 202 and it is pending with fresh attempts; retrying it again is 409', async () => {
    const dead = await anEmailDelivery('dead');
    const response = await app.inject({ method: 'POST', url: `/v1/admin/email-deliveries/${dead}/retry` });
    assert.equal(response.statusCode, 202, response.body);
    assert.deepEqual([response.json<{ status: string }>().status, response.json<{ attempts: number }>().attempts], ['pending', 0]);
    const again = await app.inject({ method: 'POST', url: `/v1/admin/email-deliveries/${dead}/retry` });
    assert.equal(again.statusCode, 409);
    assert.equal(again.json<{ type: string }>().type, 'https://orderstream.dev/problems/conflict');
    // The retry is audited once, with the status and attempts it replaced; the refused second one is not.
    const audited = await sql<{ action: string; before: { status: string }; after: unknown }>`
      select action, before, after from audit.entries where target_id = ${dead}`.execute(db);
    assert.deepEqual(audited.rows.map((row) => [row.action, row.before.status, row.after]), [['notifications.email-delivery-retried', 'dead', { status: 'pending', attempts: 0 }]]);
  });

  test('when the delivery is unknown, sent, or a webhook delivery, then retry is 404 or 409 and nothing changes', async () => {
    assert.equal((await app.inject({ method: 'POST', url: '/v1/admin/email-deliveries/dlv_missing/retry' })).statusCode, 404);
    const sent = await anEmailDelivery('sent');
    assert.equal((await app.inject({ method: 'POST', url: `/v1/admin/email-deliveries/${sent}/retry` })).statusCode, 409);
    const webhookDelivery = await aDeadWebhookDelivery();
    assert.equal((await app.inject({ method: 'POST', url: `/v1/admin/email-deliveries/${webhookDelivery}/retry` })).statusCode, 404);
    const statuses = await sql<{ id: string; status: string }>`select id, status from notifications.deliveries where id in (${sent}, ${webhookDelivery})`.execute(db);
    assert.deepEqual(Object.fromEntries(statuses.rows.map((row) => [row.id, row.status])), { [sent]: 'sent', [webhookDelivery]: 'dead' });
  });

  test('when the mail server refused every attempt, then the email is dead; retried by the admin after the server recovers, it is delivered once', async () => {
    smtp.refuse(true);
    const envelope = orderConfirmedEnvelope();
    const orderId = envelope.payload.orderId;
    try {
      await db.transaction().execute((transaction) => appendToOutbox(transaction, [envelope]));
      await messaging.relay.relayOnce();
      await waitFor('the email to die', async () => ((await emailOf(orderId))?.status === 'dead' ? true : undefined));
    } finally {
      smtp.refuse(false);
    }
    assert.equal(smtp.refused.filter((to) => to.includes(envelope.payload.customer.email)).length, maxAttempts);
    assert.equal(await announced(orderId, 'notifications.failed'), 1);
    const listed = (await app.inject({ method: 'GET', url: '/v1/admin/email-deliveries?status=dead&limit=100' })).json<{ items: { id: string; orderId: string; lastError: string }[] }>()
      .items.find((item) => item.orderId === orderId);
    assert.ok(listed);
    assert.match(listed.lastError, /550|Mailbox unavailable/);

    const retried = await app.inject({ method: 'POST', url: `/v1/admin/email-deliveries/${listed.id}/retry` });
    assert.equal(retried.statusCode, 202, retried.body);
    await waitFor('the retried email to be sent', async () => ((await emailOf(orderId))?.status === 'sent' ? true : undefined));
    await waitFor('notifications.delivered', async () => ((await announced(orderId, 'notifications.delivered')) === 1 || undefined));
    const mails = smtp.received.filter((mail) => mail.to.includes(envelope.payload.customer.email));
    assert.equal(mails.length, 1);
    assert.match(mails[0]?.raw ?? '', new RegExp(orderId));
    assert.equal((await emailOf(orderId))?.attempts, 1);
  });
});

describe('OpenAPI', () => {
  test('when the document is generated, then it describes the email admin routes', async () => {
    const paths = Object.keys((await app.inject({ method: 'GET', url: '/openapi.json' })).json<{ paths: Record<string, unknown> }>().paths);
    for (const expected of ['/v1/admin/email-deliveries', '/v1/admin/email-deliveries/{id}/retry']) assert.ok(paths.includes(expected), `${expected} in ${paths.join(', ')}`);
  });
});
