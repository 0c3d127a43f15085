import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import type { Database } from '../../../../platform/database/database.ts';
import { createHttpApp, type HttpApp } from '../../../../platform/http/app.ts';
import { createLogger } from '../../../../platform/logging/logger.ts';
import { auditMigrations } from '../../../../platform/audit/index.ts';
import { messagingMigrations } from '../../../../platform/messaging/index.ts';
import { createTestDatabase, embeddedServerUrl } from '../../../../platform/testing/test-database.ts';
import { createNotificationsModule, notificationsMigrations } from '../../index.ts';
import { aPublicAddress, testResolver } from '../../testing/test-resolver.ts';

let app: HttpApp;
let db: Database;
let drop: () => Promise<void>;
let mailFolder: string;
/** Names resolve from this table, never through DNS. */
const resolver = testResolver({
  'shop.example.com': [aPublicAddress],
  'example.com': [aPublicAddress],
  'metadata.shop.test': ['169.254.169.254'],
  'intranet.shop.test': [aPublicAddress, '10.0.0.1'],
  'localhost': ['127.0.0.1', '::1'],
});

before(async () => {
  ({ db, drop } = await createTestDatabase(embeddedServerUrl(), [messagingMigrations, auditMigrations, notificationsMigrations]));
  mailFolder = await mkdtemp(path.join(tmpdir(), 'orderstream-mail-'));
  const notifications = createNotificationsModule({
    db, logger: createLogger({ level: 'silent' }), email: { transport: 'file', outboxDir: mailFolder }, emailFrom: 'orders@orderstream.test',
    maxAttempts: 3, retryBaseMs: 10, webhookTimeoutMs: 1000, resolveHost: resolver.resolveHost,
  });
  app = createHttpApp({ logger: createLogger({ level: 'silent' }), bodyLimit: 16 * 1024, routes: [notifications.routes], readiness: [] });
  await app.ready();
});
after(async () => {
  await app.close();
  await drop();
  await rm(mailFolder, { recursive: true, force: true });
});

async function endpointCount(): Promise<number> {
  return (await sql<{ count: number }>`select count(*)::int as count from notifications.webhook_endpoints`.execute(db)).rows[0]?.count ?? -1;
}

async function register(url = 'https://shop.example.com/hooks', events = ['orders.confirmed']) {
  const response = await app.inject({ method: 'POST', url: '/v1/admin/webhooks', payload: { url, events } });
  assert.equal(response.statusCode, 201, response.body);
  return response.json<{ id: string; url: string; events: string[]; secret: string; createdAt: string }>();
}

/** A webhook delivery stored directly, in the given status. */
async function aDelivery(endpointId: string, status: 'pending' | 'sent' | 'dead'): Promise<string> {
  const eventId = crypto.randomUUID();
  const id = `dlv_${crypto.randomUUID()}`;
  await sql`insert into notifications.events (id, type, order_id, occurred_at, notice, data)
    values (${eventId}, 'orders.confirmed', ${`ord_${eventId}`}, now(), '{}'::jsonb, '{}'::jsonb)`.execute(db);
  await sql`insert into notifications.deliveries (id, event_id, channel, recipient, endpoint_id, status, attempts, next_attempt_at, last_error, created_at)
    values (${id}, ${eventId}, 'webhook', ${endpointId}, ${endpointId}, ${status}, 3, now() + interval '1 hour', 'answered 500', now())`.execute(db);
  return id;
}

describe('POST /v1/admin/webhooks', () => {
  test('when the body is valid, then 201 returns the endpoint with its secret, which the list never shows', async () => {
    const created = await register('https://shop.example.com/created', ['orders.confirmed', 'orders.cancelled']);
    assert.match(created.id, /^whe_/);
    assert.match(created.secret, /^whsec_/);
    assert.deepEqual(created.events, ['orders.confirmed', 'orders.cancelled']);
    assert.ok(!Number.isNaN(Date.parse(created.createdAt)));
    const list = await app.inject({ method: 'GET', url: '/v1/admin/webhooks?limit=100' });
    assert.equal(list.statusCode, 200);
    const listed = list.json<{ items: Record<string, unknown>[] }>().items.find((item) => item.id === created.id);
    assert.deepEqual(listed, { id: created.id, url: created.url, events: created.events, createdAt: created.createdAt });
    assert.ok(!list.body.includes(created.secret));
  });

  const badBodies: { when: string; payload: unknown; field: string }[] = [
    { when: 'the URL is ftp', payload: { url: 'ftp://example.com/x', events: ['orders.confirmed'] }, field: 'url' },
    { when: 'the URL is not a URL', payload: { url: 'not a url', events: ['orders.confirmed'] }, field: 'url' },
    { when: 'the URL carries credentials', payload: { url: 'https://user:secret@example.com/x', events: ['orders.confirmed'] }, field: 'url' },
    { when: 'an event type is unknown', payload: { url: 'https://example.com/x', events: ['orders.placed'] }, field: 'events.0' },
    { when: 'no event type is given', payload: { url: 'https://example.com/x', events: [] }, field: 'events' },
    { when: 'events is missing', payload: { url: 'https://example.com/x' }, field: 'events' },
    { when: 'an unknown field is sent', payload: { url: 'https://example.com/x', events: ['orders.confirmed'], secret: 'mine' }, field: '' },
  ];
  for (const { when, payload, field } of badBodies) {
    test(`when ${when}, then 400 problem+json names "${field || 'the body'}" and nothing is stored`, async () => {
      const before = await endpointCount();
      const response = await app.inject({ method: 'POST', url: '/v1/admin/webhooks', payload: payload as Record<string, unknown> });
      assert.equal(response.statusCode, 400, response.body);
      assert.match(response.headers['content-type'] ?? '', /^application\/problem\+json/);
      const problem = response.json<{ type: string; errors: { field: string }[] }>();
      assert.equal(problem.type, 'https://orderstream.dev/problems/validation-error');
      assert.ok(problem.errors.some((error) => error.field === field), JSON.stringify(problem.errors));
      assert.equal(await endpointCount(), before);
    });
  }

  const refusedDestinations: { when: string; url: string }[] = [
    { when: 'the cloud metadata address', url: 'http://169.254.169.254/latest/meta-data/' },
    { when: 'a private IPv4 address', url: 'http://10.0.0.1/hooks' },
    { when: 'a 172.16/12 address', url: 'http://172.16.0.1/hooks' },
    { when: 'a 192.168/16 address', url: 'https://192.168.0.10/hooks' },
    { when: 'a shared (CGNAT) address', url: 'http://100.64.0.1/hooks' },
    { when: 'loopback (the metrics listener)', url: 'http://127.0.0.1:9464/metrics' },
    { when: 'loopback written as one number', url: 'http://2130706433/' },
    { when: 'loopback written in hex', url: 'http://0x7f.1/' },
    { when: 'loopback written in octal', url: 'http://017700000001/' },
    { when: 'the unspecified IPv4 address', url: 'http://0.0.0.0:8080/' },
    { when: 'the broadcast address', url: 'http://255.255.255.255/' },
    { when: 'a multicast address', url: 'http://224.0.0.1/' },
    { when: 'a documentation address', url: 'http://192.0.2.1/' },
    { when: 'IPv6 loopback', url: 'http://[::1]/' },
    { when: 'the unspecified IPv6 address', url: 'http://[::]/' },
    { when: 'a unique-local IPv6 address', url: 'http://[fd00::1]/hooks' },
    { when: 'a link-local IPv6 address', url: 'http://[fe80::1]/' },
    { when: 'an IPv6 multicast address', url: 'http://[ff02::1]/' },
    { when: 'IPv4-mapped loopback', url: 'http://[::ffff:127.0.0.1]/' },
    { when: 'IPv4-mapped metadata, in hex', url: 'http://[::ffff:a9fe:a9fe]/' },
    { when: 'IPv4-compatible loopback', url: 'http://[::127.0.0.1]/' },
    { when: 'NAT64 of the metadata address', url: 'http://[64:ff9b::169.254.169.254]/' },
    { when: '6to4 of a private address', url: 'http://[2002:a00:1::1]/' },
    { when: 'a name resolving to the metadata address', url: 'http://metadata.shop.test/' },
    { when: 'a name resolving to a public and a private address', url: 'https://intranet.shop.test/hooks' },
    { when: 'localhost', url: 'http://localhost:9464/metrics' },
    { when: 'a name that does not resolve', url: 'https://unknown.shop.test/hooks' },
  ];
  for (const { when, url } of refusedDestinations) {
    test(`when the URL points at ${when}, then 400 problem+json says only that the destination is not allowed, and nothing is stored`, async () => {
      const before = await endpointCount();
      const response = await app.inject({ method: 'POST', url: '/v1/admin/webhooks', payload: { url, events: ['orders.confirmed'] } });
      assert.equal(response.statusCode, 400, response.body);
      assert.match(response.headers['content-type'] ?? '', /^application\/problem\+json/);
      const problem = response.json<{ type: string; errors: { location: string; field: string; message: string }[] }>();
      assert.equal(problem.type, 'https://orderstream.dev/problems/validation-error');
      assert.deepEqual(problem.errors, [{ location: 'body', field: 'url', message: 'is not an allowed webhook destination' }]);
      assert.equal(await endpointCount(), before);
    });
  }

  test('when the body is malformed JSON, then 400 problem+json and nothing is stored', async () => {
    const before = await endpointCount();
    const response = await app.inject({ method: 'POST', url: '/v1/admin/webhooks', headers: { 'content-type': 'application/json' }, payload: '{"url":' });
    assert.equal(response.statusCode, 400);
    assert.equal(response.json<{ type: string }>().type, 'https://orderstream.dev/problems/malformed-json');
    assert.equal(await endpointCount(), before);
  });
});

describe('GET /v1/admin/webhooks', () => {
  test('when following nextCursor, then every endpoint is listed once; a foreign cursor is 400', async () => {
    const ids = [(await register()).id, (await register()).id, (await register()).id];
    const seen: string[] = [];
    let url = '/v1/admin/webhooks?limit=2';
    for (;;) {
      const page = (await app.inject({ method: 'GET', url })).json<{ items: { id: string }[]; nextCursor: string | null }>();
      seen.push(...page.items.map((item) => item.id));
      if (page.nextCursor === null) break;
      url = `/v1/admin/webhooks?limit=2&cursor=${encodeURIComponent(page.nextCursor)}`;
    }
    assert.deepEqual(seen.filter((id) => ids.includes(id)), ids);
    assert.equal(new Set(seen).size, seen.length);
    const bad = await app.inject({ method: 'GET', url: '/v1/admin/webhooks?cursor=abc' });
    assert.equal(bad.statusCode, 400);
    assert.ok(bad.json<{ errors: { field: string }[] }>().errors.some((error) => error.field === 'cursor'));
  });
});

describe('DELETE /v1/admin/webhooks/{id}', () => {
  test('when the endpoint exists, then 204 and it is gone; again or unknown, then 404 problem+json', async () => {
    const endpoint = await register();
    const deleted = await app.inject({ method: 'DELETE', url: `/v1/admin/webhooks/${endpoint.id}` });
    assert.equal(deleted.statusCode, 204);
    assert.equal(deleted.body, '');
    const list = (await app.inject({ method: 'GET', url: '/v1/admin/webhooks?limit=100' })).json<{ items: { id: string }[] }>();
    assert.ok(!list.items.some((item) => item.id === endpoint.id));
    for (const id of [endpoint.id, 'whe_missing']) {
      const missing = await app.inject({ method: 'DELETE', url: `/v1/admin/webhooks/${id}` });
      assert.equal(missing.statusCode, 404);
      assert.equal(missing.json<{ type: string }>().type, 'https://orderstream.dev/problems/not-found');
    }
  });
});

describe('webhook deliveries', () => {
  test('when listing with status=dead, then only dead webhook deliveries come back, with their event; a bad status or cursor is 400', async () => {
    const endpoint = await register();
    const dead = await aDelivery(endpoint.id, 'dead');
    const sent = await aDelivery(endpoint.id, 'sent');
    const response = await app.inject({ method: 'GET', url: '/v1/admin/webhook-deliveries?status=dead&limit=100' });
    assert.equal(response.statusCode, 200);
    const items = response.json<{ items: { id: string; status: string; endpointId: string; eventType: string; lastError: string; attempts: number }[] }>().items;
    const found = items.find((item) => item.id === dead);
    assert.deepEqual(
      [found?.status, found?.endpointId, found?.eventType, found?.lastError, found?.attempts],
      ['dead', endpoint.id, 'orders.confirmed', 'answered 500', 3],
    );
    assert.ok(items.every((item) => item.status === 'dead'));
    assert.ok(!items.some((item) => item.id === sent));
    const bad = await app.inject({ method: 'GET', url: '/v1/admin/webhook-deliveries?status=lost' });
    assert.equal(bad.statusCode, 400);
    const badCursor = await app.inject({ method: 'GET', url: '/v1/admin/webhook-deliveries?cursor=abc' });
    assert.equal(badCursor.statusCode, 400);
    assert.ok(badCursor.json<{ errors: { field: string }[] }>().errors.some((error) => error.field === 'cursor'));
  });

  test('when a dead delivery is retried, then 202 and it is pending with fresh attempts; retrying it again is 409', async () => {
    const endpoint = await register();
    const dead = await aDelivery(endpoint.id, 'dead');
    const response = await app.inject({ method: 'POST', url: `/v1/admin/webhook-deliveries/${dead}/retry` });
    assert.equal(response.statusCode, 202, response.body);
    assert.deepEqual([response.json<{ status: string }>().status, response.json<{ attempts: number }>().attempts], ['pending', 0]);
    const again = await app.inject({ method: 'POST', url: `/v1/admin/webhook-deliveries/${dead}/retry` });
    assert.equal(again.statusCode, 409);
    assert.equal(again.json<{ type: string }>().type, 'https://orderstream.dev/problems/conflict');
  });

  test('when the delivery is unknown, sent, or its endpoint was deleted, then retry is 404 or 409 and nothing changes', async () => {
    const missing = await app.inject({ method: 'POST', url: '/v1/admin/webhook-deliveries/dlv_missing/retry' });
    assert.equal(missing.statusCode, 404);
    const endpoint = await register();
    const sent = await aDelivery(endpoint.id, 'sent');
    assert.equal((await app.inject({ method: 'POST', url: `/v1/admin/webhook-deliveries/${sent}/retry` })).statusCode, 409);
    const dead = await aDelivery(endpoint.id, 'dead');
    await app.inject({ method: 'DELETE', url: `/v1/admin/webhooks/${endpoint.id}` });
    assert.equal((await app.inject({ method: 'POST', url: `/v1/admin/webhook-deliveries/${dead}/retry` })).statusCode, 409);
    const statuses = await sql<{ id: string; status: string }>`select id, status from notifications.deliveries where id in (${sent}, ${dead}) order by id`.execute(db);
    assert.deepEqual(Object.fromEntries(statuses.rows.map((row) => [row.id, row.status])), { [sent]: 'sent', [dead]: 'cancelled' });
  });
});

describe('OpenAPI', () => {
  test('when the document is generated, then it describes the webhook admin routes', async () => {
    const response = await app.inject({ method: 'GET', url: '/openapi.json' });
    assert.equal(response.statusCode, 200);
    const paths = Object.keys(response.json<{ paths: Record<string, unknown> }>().paths);
    for (const expected of ['/v1/admin/webhooks', '/v1/admin/webhooks/{id}', '/v1/admin/webhook-deliveries', '/v1/admin/webhook-deliveries/{id}/retry']) {
      assert.ok(paths.includes(expected), `${expected} in ${paths.join(', ')}`);
    }
  });
});
