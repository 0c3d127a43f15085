import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import type { Database } from '../../../../platform/database/database.ts';
import { createHttpApp, type HttpApp } from '../../../../platform/http/app.ts';
import { createLogger } from '../../../../platform/logging/logger.ts';
import { auditMigrations } from '../../../../platform/audit/index.ts';
import { messagingMigrations } from '../../../../platform/messaging/index.ts';
import { createTestDatabase, embeddedServerUrl } from '../../../../platform/testing/test-database.ts';
import { createInventoryModule, inventoryMigrations } from '../../index.ts';

let app: HttpApp;
let db: Database;
let drop: () => Promise<void>;

before(async () => {
  ({ db, drop } = await createTestDatabase(embeddedServerUrl(), [messagingMigrations, auditMigrations, inventoryMigrations]));
  const logger = createLogger({ level: 'silent' });
  app = createHttpApp({
    logger,
    bodyLimit: 16 * 1024,
    routes: [createInventoryModule({ db, logger, reservationTtlSeconds: 900 }).routes],
    readiness: [],
  });
  await app.ready();
});
after(async () => {
  await app.close();
  await drop();
});

/** Every stock row as stored, to prove a refused request changed nothing. */
async function allStock(): Promise<unknown[]> {
  const result = await sql`select sku, on_hand, reserved from inventory.stock_items order by sku`.execute(db);
  return result.rows;
}

async function putStock(sku: string, payload: unknown) {
  return app.inject({ method: 'PUT', url: `/v1/inventory/${sku}`, payload: payload as Record<string, unknown> });
}

describe('PUT /v1/inventory/{sku}', () => {
  test('when stock is set for a new SKU, then 200 returns it under the upper-case SKU, and GET reads it back', async () => {
    const response = await putStock('mug-put-1', { onHand: 25 });
    assert.equal(response.statusCode, 200, response.body);
    assert.deepEqual(response.json(), { sku: 'MUG-PUT-1', onHand: 25, reserved: 0, available: 25 });
    const read = await app.inject({ method: 'GET', url: '/v1/inventory/MUG-PUT-1' });
    assert.equal(read.statusCode, 200);
    assert.deepEqual(read.json(), { sku: 'MUG-PUT-1', onHand: 25, reserved: 0, available: 25 });
  });

  test('when stock is set again, then on-hand is replaced (not added) and reserved is kept', async () => {
    await putStock('MUG-PUT-2', { onHand: 10 });
    await sql`update inventory.stock_items set reserved = 4 where sku = 'MUG-PUT-2'`.execute(db);
    const response = await putStock('MUG-PUT-2', { onHand: 6 });
    assert.equal(response.statusCode, 200, response.body);
    assert.deepEqual(response.json(), { sku: 'MUG-PUT-2', onHand: 6, reserved: 4, available: 2 });
  });

  test('when on-hand would fall below what is reserved, then 409 insufficient-stock problem+json and nothing changes', async () => {
    await putStock('MUG-PUT-3', { onHand: 10 });
    await sql`update inventory.stock_items set reserved = 7 where sku = 'MUG-PUT-3'`.execute(db);
    const before = await allStock();
    const response = await putStock('MUG-PUT-3', { onHand: 6 });
    assert.equal(response.statusCode, 409);
    assert.match(response.headers['content-type'] ?? '', /^application\/problem\+json/);
    assert.equal(response.json<{ type: string }>().type, 'https://orderstream.dev/problems/insufficient-stock');
    assert.deepEqual(await allStock(), before);
  });

  const badBodies: { when: string; payload: unknown; field: string }[] = [
    { when: 'onHand is negative', payload: { onHand: -1 }, field: 'onHand' },
    { when: 'onHand is a float', payload: { onHand: 2.5 }, field: 'onHand' },
    { when: 'onHand is above 1,000,000,000', payload: { onHand: 1_000_000_001 }, field: 'onHand' },
    { when: 'onHand is huge', payload: { onHand: 1e300 }, field: 'onHand' },
    { when: 'onHand is a string', payload: { onHand: '25' }, field: 'onHand' },
    { when: 'onHand is missing', payload: {}, field: 'onHand' },
    { when: 'an unknown field is sent', payload: { onHand: 5, reserved: 2 }, field: '' },
  ];
  for (const { when, payload, field } of badBodies) {
    test(`when ${when}, then 400 problem+json names "${field || 'the body'}" and nothing changes`, async () => {
      await putStock('MUG-BAD', { onHand: 3 });
      const before = await allStock();
      const response = await putStock('MUG-BAD', payload);
      assert.equal(response.statusCode, 400, response.body);
      assert.match(response.headers['content-type'] ?? '', /^application\/problem\+json/);
      const problem = response.json<{ type: string; errors: { field: string }[] }>();
      assert.equal(problem.type, 'https://orderstream.dev/problems/validation-error');
      assert.ok(problem.errors.some((error) => error.field === field), JSON.stringify(problem.errors));
      assert.deepEqual(await allStock(), before);
    });
  }

  test('when the SKU is malformed, then 400 problem+json names the sku parameter and nothing is created', async () => {
    const before = await allStock();
    for (const sku of ['-bad', 'bad%20sku', 'x'.repeat(65), 'bad!sku']) {
      const response = await putStock(sku, { onHand: 1 });
      assert.equal(response.statusCode, 400, `${sku}: ${response.body}`);
      const problem = response.json<{ errors: { location: string; field: string }[] }>();
      assert.deepEqual(problem.errors.map((error) => [error.location, error.field]), [['params', 'sku']]);
    }
    assert.deepEqual(await allStock(), before);
  });

  test('when the body is malformed JSON, then 400 malformed-json and nothing changes', async () => {
    const before = await allStock();
    const response = await app.inject({ method: 'PUT', url: '/v1/inventory/MUG-JSON', headers: { 'content-type': 'application/json' }, payload: '{"onHand": ' });
    assert.equal(response.statusCode, 400);
    assert.equal(response.json<{ type: string }>().type, 'https://orderstream.dev/problems/malformed-json');
    assert.deepEqual(await allStock(), before);
  });
});

describe('GET /v1/inventory/{sku}', () => {
  test('when the SKU is asked for in lower case, then the stock of its upper-case form is returned', async () => {
    await putStock('CASE-1', { onHand: 4 });
    const response = await app.inject({ method: 'GET', url: '/v1/inventory/case-1' });
    assert.equal(response.statusCode, 200);
    assert.equal(response.json<{ sku: string }>().sku, 'CASE-1');
  });

  test('when the SKU has no stock recorded, then 404 problem+json', async () => {
    const response = await app.inject({ method: 'GET', url: '/v1/inventory/NEVER-STOCKED' });
    assert.equal(response.statusCode, 404);
    assert.match(response.headers['content-type'] ?? '', /^application\/problem\+json/);
    assert.equal(response.json<{ type: string }>().type, 'https://orderstream.dev/problems/not-found');
  });

  test('when the SKU is malformed, then 400 problem+json', async () => {
    const response = await app.inject({ method: 'GET', url: '/v1/inventory/-nope' });
    assert.equal(response.statusCode, 400);
    assert.equal(response.json<{ type: string }>().type, 'https://orderstream.dev/problems/validation-error');
  });
});
