import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { call } from '../shapes.ts';
import type { LoadFixture } from './load-fixture.ts';
import { at, expectStatus, password, range, run } from './load-run.ts';

/** What bursts use up from the fixture (refresh tokens, jobs, webhooks, dead deliveries), topped up when it runs out. */

/** A catalogue upload of two good rows and one bad one (so its error report has a line). */
export function importUpload(index: number): FormData {
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
export async function takeRefreshTokens(fixture: LoadFixture, count: number): Promise<string[]> {
  for (let index = 0; fixture.refreshTokens.length < count; index += 1) {
    const customer = at(fixture.customers, index);
    const pair = await expectStatus(call(fixture.shape, 'POST', '/v1/auth/login', { body: { email: customer.email, password: customer.password } }), 200, 'a refresh token') as { refreshToken: string };
    fixture.refreshTokens.push(pair.refreshToken);
  }
  return fixture.refreshTokens.splice(0, count);
}

/** `count` job ids (repeating when fewer exist): the uploads' jobs, topped up with one upload if there are none. */
export async function jobIds(fixture: LoadFixture, count: number): Promise<string[]> {
  if (fixture.jobIds.length === 0) {
    const response = await fetch(`${fixture.shape.baseUrl}/v1/imports`, { method: 'POST', headers: { authorization: `Bearer ${fixture.admin}` }, body: importUpload(999) });
    if (response.status !== 202) throw new Error(`uploading an import failed: ${String(response.status)} ${await response.text()}`);
    fixture.jobIds.push((await response.json() as { id: string }).id);
  }
  return range(count).map((index) => at(fixture.jobIds, index));
}

/** `count` new accounts, registered and signed in once, by user id (the access token's subject). */
export async function registerAccounts(fixture: LoadFixture, count: number): Promise<string[]> {
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

/** `count` webhook endpoints to delete, each once: the ones the create burst made, topped up by registering more. */
export async function webhookIds(fixture: LoadFixture, count: number): Promise<string[]> {
  while (fixture.webhookIds.length < count) {
    const created = await expectStatus(call(fixture.shape, 'POST', '/v1/admin/webhooks', {
      token: fixture.admin, body: { url: fixture.deadWebhookUrl, events: ['orders.cancelled'] },
    }), 201, 'registering a webhook') as { id: string };
    fixture.webhookIds.push(created.id);
  }
  return fixture.webhookIds.splice(0, count);
}

/** `count` dead webhook deliveries, each retried once, waiting (up to 30 s) for the arranged orders' deliveries to die. */
export async function deadDeliveryIds(fixture: LoadFixture, count: number): Promise<string[]> {
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
export async function deadEmailDeliveryIds(fixture: LoadFixture, count: number): Promise<string[]> {
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
