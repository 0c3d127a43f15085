import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import type { Database } from '../../../../platform/database/database.ts';
import { createHttpApp, type HttpApp } from '../../../../platform/http/app.ts';
import { createLogger } from '../../../../platform/logging/logger.ts';
import { auditMigrations } from '../../../../platform/audit/index.ts';
import { messagingMigrations } from '../../../../platform/messaging/index.ts';
import { createTestDatabase, embeddedServerUrl } from '../../../../platform/testing/test-database.ts';
import { catalogMigrations, createCatalogModule } from '../../index.ts';
import { PgReportedStockStore } from '../postgres/pg-reported-stock-store.ts';

let app: HttpApp;
let db: Database;
let drop: () => Promise<void>;

before(async () => {
  const created = await createTestDatabase(embeddedServerUrl(), [messagingMigrations, auditMigrations, catalogMigrations]);
  db = created.db;
  drop = created.drop;
  app = createHttpApp({
    logger: createLogger({ level: 'silent' }),
    bodyLimit: 16 * 1024,
    routes: [createCatalogModule({ db, lowStockThreshold: 5, devIdentityHeaders: true }).routes],
    readiness: [],
  });
  await app.ready();
});
after(async () => {
  await app.close();
  await drop();
});

const validBody = (sku: string) => ({ sku, name: 'Espresso cup', description: 'Small', price: { amount: 850, currency: 'EUR' } });

async function counts(): Promise<{ products: number; outbox: number }> {
  const result = await sql<{ products: number; outbox: number }>`
    select (select count(*)::int from catalog.products) as products, (select count(*)::int from messaging.outbox) as outbox`.execute(db);
  const row = result.rows[0];
  assert.ok(row);
  return row;
}

async function createProduct(sku: string): Promise<{ id: string; sku: string }> {
  const response = await app.inject({ method: 'POST', url: '/v1/products', payload: validBody(sku) });
  assert.equal(response.statusCode, 201, response.body);
  return response.json();
}

describe('POST /v1/products', () => {
  test('when the body is valid, then 201 returns the product with a Location header and its event is queued', async () => {
    const before = await counts();
    const response = await app.inject({ method: 'POST', url: '/v1/products', payload: validBody('cup-201') });
    assert.equal(response.statusCode, 201);
    const body = response.json<{ id: string; sku: string; price: unknown; createdAt: string }>();
    assert.equal(body.sku, 'CUP-201');
    assert.deepEqual(body.price, { amount: 850, currency: 'EUR' });
    assert.equal(response.headers.location, `/v1/products/${body.id}`);
    assert.ok(!Number.isNaN(Date.parse(body.createdAt)));
    assert.deepEqual(await counts(), { products: before.products + 1, outbox: before.outbox + 1 });
  });

  const badRequests: { when: string; payload: unknown; field: string }[] = [
    { when: 'the name is missing', payload: { sku: 'x-1', price: { amount: 1, currency: 'EUR' } }, field: 'name' },
    { when: 'the price is a string', payload: { ...validBody('x-2'), price: '8.50' }, field: 'price' },
    { when: 'the amount is a float', payload: { ...validBody('x-3'), price: { amount: 8.5, currency: 'EUR' } }, field: 'price.amount' },
    { when: 'the price is negative', payload: { ...validBody('x-4'), price: { amount: -1, currency: 'EUR' } }, field: 'price.amount' },
    { when: 'the currency is unknown', payload: { ...validBody('x-5'), price: { amount: 100, currency: 'ABC' } }, field: 'price.currency' },
    { when: 'the SKU has spaces', payload: { ...validBody('bad sku') }, field: 'sku' },
    { when: 'an unknown field is sent', payload: { ...validBody('x-6'), colour: 'blue' }, field: '' },
  ];
  for (const { when, payload, field } of badRequests) {
    test(`when ${when}, then 400 problem+json names "${field || 'the body'}" and nothing is written`, async () => {
      const before = await counts();
      const response = await app.inject({ method: 'POST', url: '/v1/products', payload: payload as Record<string, unknown> });
      assert.equal(response.statusCode, 400);
      assert.match(response.headers['content-type'] ?? '', /^application\/problem\+json/);
      const problem = response.json<{ type: string; status: number; errors: { field: string }[] }>();
      assert.equal(problem.type, 'https://orderstream.dev/problems/validation-error');
      assert.equal(problem.status, 400);
      assert.ok(problem.errors.some((error) => error.field === field), JSON.stringify(problem.errors));
      assert.deepEqual(await counts(), before);
    });
  }

  test('when the body is malformed JSON, then 400 problem+json and nothing is written', async () => {
    const before = await counts();
    const response = await app.inject({ method: 'POST', url: '/v1/products', headers: { 'content-type': 'application/json' }, payload: '{"sku": "a",' });
    assert.equal(response.statusCode, 400);
    assert.equal(response.json<{ type: string }>().type, 'https://orderstream.dev/problems/malformed-json');
    assert.deepEqual(await counts(), before);
  });

  test('when the body is larger than the limit, then 413 problem+json and nothing is written', async () => {
    const before = await counts();
    const response = await app.inject({ method: 'POST', url: '/v1/products', payload: { ...validBody('big-1'), description: 'x'.repeat(20_000) } });
    assert.equal(response.statusCode, 413);
    assert.equal(response.json<{ type: string }>().type, 'https://orderstream.dev/problems/body-too-large');
    assert.deepEqual(await counts(), before);
  });

  test('when the content type is not JSON, then 415 problem+json', async () => {
    const response = await app.inject({ method: 'POST', url: '/v1/products', headers: { 'content-type': 'text/plain' }, payload: 'sku=a' });
    assert.equal(response.statusCode, 415);
    assert.match(response.headers['content-type'] ?? '', /^application\/problem\+json/);
  });

  test('when the SKU already exists, then 409 problem+json and nothing more is written', async () => {
    await createProduct('dup-1');
    const before = await counts();
    const response = await app.inject({ method: 'POST', url: '/v1/products', payload: validBody('DUP-1') });
    assert.equal(response.statusCode, 409);
    assert.equal(response.json<{ type: string }>().type, 'https://orderstream.dev/problems/duplicate-sku');
    assert.deepEqual(await counts(), before);
  });
});

describe('PATCH /v1/products/{id}', () => {
  test('when the price changes, then 200 returns the new price and an event is queued', async () => {
    const product = await createProduct('patch-1');
    const before = await counts();
    const response = await app.inject({ method: 'PATCH', url: `/v1/products/${product.id}`, payload: { price: { amount: 999, currency: 'EUR' } } });
    assert.equal(response.statusCode, 200);
    assert.deepEqual(response.json<{ price: unknown }>().price, { amount: 999, currency: 'EUR' });
    assert.equal((await counts()).outbox, before.outbox + 1);
  });

  test('when the body is empty, then 400 and nothing changes', async () => {
    const product = await createProduct('patch-2');
    const before = await counts();
    const response = await app.inject({ method: 'PATCH', url: `/v1/products/${product.id}`, payload: {} });
    assert.equal(response.statusCode, 400);
    assert.deepEqual(await counts(), before);
  });

  test('when the product does not exist, then 404 problem+json', async () => {
    const response = await app.inject({ method: 'PATCH', url: '/v1/products/prod_missing', payload: { name: 'x' } });
    assert.equal(response.statusCode, 404);
    assert.equal(response.json<{ type: string }>().type, 'https://orderstream.dev/problems/not-found');
  });
});

describe('GET /v1/products', () => {
  test('when the id exists, then 200 returns it; when it does not, then 404 problem+json', async () => {
    const product = await createProduct('get-1');
    const found = await app.inject({ method: 'GET', url: `/v1/products/${product.id}` });
    assert.equal(found.statusCode, 200);
    assert.equal(found.json<{ sku: string }>().sku, 'GET-1');
    const missing = await app.inject({ method: 'GET', url: '/v1/products/prod_nope' });
    assert.equal(missing.statusCode, 404);
    assert.match(missing.headers['content-type'] ?? '', /^application\/problem\+json/);
  });

  test('when following nextCursor with a text filter, then every match is listed exactly once', async () => {
    const ids = [];
    for (let index = 0; index < 5; index += 1) {
      const response = await app.inject({ method: 'POST', url: '/v1/products', payload: { ...validBody(`page-${index}`), name: `Pager item ${index}` } });
      ids.push(response.json<{ id: string }>().id);
    }
    const seen: string[] = [];
    let url = '/v1/products?q=pager&limit=2';
    for (;;) {
      const page = (await app.inject({ method: 'GET', url })).json<{ items: { id: string }[]; nextCursor: string | null }>();
      seen.push(...page.items.map((item) => item.id));
      if (page.nextCursor === null) break;
      url = `/v1/products?q=pager&limit=2&cursor=${encodeURIComponent(page.nextCursor)}`;
    }
    assert.deepEqual(seen, ids);
  });

  const badQueries = [
    ['a cursor we did not issue', 'cursor=abc', 'cursor'],
    ['a negative minimum price', 'minPrice=-5', 'minPrice'],
    ['a minimum above the maximum', 'minPrice=500&maxPrice=100', 'minPrice'],
    ['a limit above 100', 'limit=1000', 'limit'],
  ] as const;
  for (const [what, query, field] of badQueries) {
    test(`when the query has ${what}, then 400 problem+json names ${field}`, async () => {
      const response = await app.inject({ method: 'GET', url: `/v1/products?${query}` });
      assert.equal(response.statusCode, 400);
      assert.ok(response.json<{ errors: { field: string }[] }>().errors.some((error) => error.field === field));
    });
  }
});

describe('availability of product reads', () => {
  const admin = { 'x-dev-customer-id': 'admin-1', 'x-dev-roles': 'admin' };
  const customer = { 'x-dev-customer-id': 'cus-1' };
  const report = (sku: string, available: number, stockVersion: number) =>
    db.transaction().execute((transaction) => new PgReportedStockStore(transaction).record([{ sku, available, stockVersion }]));
  const availabilityOf = async (id: string, headers: Record<string, string>) => {
    const response = await app.inject({ method: 'GET', url: `/v1/products/${id}`, headers });
    assert.equal(response.statusCode, 200, response.body);
    return response.json<{ availability: unknown }>().availability;
  };

  test('when no stock was ever reported for the SKU, then the product reads out of stock, with 0 available for an admin', async () => {
    const product = await createProduct('avail-none');
    assert.deepEqual(await availabilityOf(product.id, {}), { status: 'out-of-stock' });
    assert.deepEqual(await availabilityOf(product.id, admin), { status: 'out-of-stock', available: 0 });
  });

  test('when stock is reported, then anyone reads the status, and only an admin the quantity, by id and in lists', async () => {
    const product = await createProduct('avail-some');
    await report('AVAIL-SOME', 3, 1);
    assert.deepEqual(await availabilityOf(product.id, customer), { status: 'low' });
    assert.deepEqual(await availabilityOf(product.id, {}), { status: 'low' });
    assert.deepEqual(await availabilityOf(product.id, admin), { status: 'low', available: 3 });

    await report('AVAIL-SOME', 12, 2);
    const listed = async (headers: Record<string, string>) =>
      (await app.inject({ method: 'GET', url: '/v1/products?q=avail-some', headers })).json<{ items: { availability: unknown }[] }>().items.map((item) => item.availability);
    assert.deepEqual(await listed(customer), [{ status: 'in-stock' }]);
    assert.deepEqual(await listed(admin), [{ status: 'in-stock', available: 12 }]);
  });

  test('when a product is created for a SKU whose stock was reported first, then the answer to the admin carries it', async () => {
    await report('AVAIL-FIRST', 40, 3);
    const response = await app.inject({ method: 'POST', url: '/v1/products', headers: admin, payload: validBody('avail-first') });
    assert.equal(response.statusCode, 201, response.body);
    assert.deepEqual(response.json<{ availability: unknown }>().availability, { status: 'in-stock', available: 40 });
  });
});
