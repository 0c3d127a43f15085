import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
// By its package name, as an integrator imports it (the workspace is linked into node_modules).
import { createOrderStreamClient, OrderStreamProblem, type OrderStreamClient } from '@orderstream/client';
import { startFulfilment, type FulfilmentHarness } from './harness/fulfilment-harness.ts';

// The published client against the real single process on a real port, signed in with real tokens:
// what an integrator's code does, end to end.
let harness: FulfilmentHarness;
let admin: OrderStreamClient;
let customer: OrderStreamClient;

before(async () => {
  harness = await startFulfilment({ DEV_IDENTITY_HEADERS: 'false' }, { registerWebhook: false });
  const baseUrl = await harness.orderstream.app.listen({ host: '127.0.0.1', port: 0 });
  const users = await harness.orderstream.identity.seedDemoUsers();
  admin = createOrderStreamClient({ baseUrl });
  customer = createOrderStreamClient({ baseUrl });
  await admin.signIn(users.admin.email, users.admin.password);
  await customer.signIn(users.customer.email, users.customer.password);
});
after(async () => { await harness.close(); });

describe('the client against the single process', () => {
  test('when an admin imports a CSV, then following the job ends in succeeded with every row created', async () => {
    const accepted = await admin.importCatalog('sku,name,description,price,currency,stock\nCLI-MUG,Client mug,,1299,EUR,40\nCLI-TEA,"Client tea, 50 g",,950,EUR,100\n');
    assert.equal(accepted.status, 'queued');
    const job = await admin.waitForJob(accepted.id, { timeoutMs: 60_000 });
    assert.equal(job.status, 'succeeded');
    assert.deepEqual(job.counts, { created: 2, updated: 0, rejected: 0 });
    const listed: string[] = [];
    for await (const each of admin.jobs({ limit: 1 })) listed.push(each.id);
    assert.ok(listed.includes(accepted.id));
  });

  test('when a customer places an order of imported products, then waitForOrder reaches CONFIRMED and the order is in their list', async () => {
    const { order, idempotencyKey } = await customer.placeOrder({ items: [{ sku: 'CLI-MUG', quantity: 2 }, { sku: 'CLI-TEA', quantity: 1 }], payment: { token: 'tok_visa' } });
    const done = await customer.waitForOrder(order.id, { until: 'terminal', timeoutMs: 60_000 });
    assert.equal(done.status, 'CONFIRMED');
    const again = await customer.placeOrder({ items: [{ sku: 'CLI-MUG', quantity: 2 }, { sku: 'CLI-TEA', quantity: 1 }], payment: { token: 'tok_visa' } }, { idempotencyKey });
    assert.equal(again.order.id, order.id, 'the same key replays the first order');
    const mine: string[] = [];
    for await (const each of customer.orders({ limit: 1 })) mine.push(each.id);
    assert.deepEqual(mine, [order.id]);
  });

  test('when a request is refused, then an OrderStreamProblem names the type, status, request id and fields', async () => {
    const error = await customer.placeOrder({ items: [], payment: { token: 'tok_visa' } }).catch((caught: unknown) => caught);
    assert.ok(error instanceof OrderStreamProblem);
    assert.equal(error.slug, 'validation-error');
    assert.equal(error.status, 400);
    assert.ok(error.requestId !== undefined && error.requestId !== '');
    assert.ok(error.errors.some((fault) => fault.field.startsWith('items')), JSON.stringify(error.errors));
    await assert.rejects(customer.getJob('job_missing'), (refused: unknown) => refused instanceof OrderStreamProblem && refused.status === 403);
  });
});
