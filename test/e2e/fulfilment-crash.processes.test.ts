import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { sql } from 'kysely';
import type { Database } from '../../src/platform/database/database.ts';
import { createTestDatabase, embeddedServerUrl } from '../../src/platform/testing/test-database.ts';
import { waitForTerminal } from './harness/fulfilment-harness.ts';

const projectRoot = path.resolve(import.meta.dirname, '../..');
let database: { url: string; db: Database; drop: () => Promise<void> };
let mailDir: string;
let child: ChildProcess | undefined;

before(async () => {
  database = await createTestDatabase(embeddedServerUrl(), []);
  mailDir = await mkdtemp(path.join(tmpdir(), 'orderstream-crash-mail-'));
});
after(async () => {
  child?.kill('SIGKILL');
  await database.drop();
  await rm(mailDir, { recursive: true, force: true });
});

/** Starts OrderStream as a child process on the test database; resolves with its base URL. */
async function startChild(): Promise<string> {
  const started = spawn(process.execPath, ['src/cli.ts', 'start'], {
    cwd: projectRoot,
    env: {
      ...process.env, DATABASE_URL: database.url, PORT: '0', OPS_PORT: '0', LOG_LEVEL: 'info', DEV_IDENTITY_HEADERS: 'true', RATE_LIMIT_BURST: '1000000', DOCUMENTS_DIR: mailDir, EMAIL_TRANSPORT: 'file', EMAIL_OUTBOX_DIR: mailDir,
      SAGA_STEP_TIMEOUT_MS: '5000', OUTBOX_POLL_INTERVAL_MS: '200', MESSAGE_RETRY_BASE_MS: '50', SIMULATED_PAYMENT_DELAY_MS: '300',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child = started;
  return new Promise((resolve, reject) => {
    let buffered = '';
    started.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      const match = /"url":"(http:\/\/[^"]+)"[^\n]*OrderStream is listening/.exec(buffered);
      if (match?.[1] !== undefined) resolve(match[1]);
    });
    let errors = '';
    started.stderr.on('data', (chunk: Buffer) => { errors += chunk.toString('utf8'); });
    started.once('exit', (code) => { reject(new Error(`OrderStream exited (${code}) before listening: ${errors}`)); });
  });
}

function killChild(): Promise<void> {
  const running = child;
  if (running?.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    running.once('exit', () => { resolve(); });
    running.kill('SIGKILL');
  });
}

async function call(baseUrl: string, method: string, url: string, body?: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${baseUrl}${url}`, {
    method, headers: { 'content-type': 'application/json', 'x-dev-customer-id': 'admin', 'x-dev-roles': 'admin', ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

test('when the process is killed with SIGKILL again and again mid-saga, then after restarts every order is terminal and stock and money add up', async () => {
  let baseUrl = await startChild();
  assert.equal((await call(baseUrl, 'POST', '/v1/products', { sku: 'CRASH-1', name: 'Crash test dummy', price: { amount: 999, currency: 'EUR' } })).status, 201);
  assert.equal((await call(baseUrl, 'PUT', '/v1/inventory/CRASH-1', { onHand: 40 })).status, 200);

  const tokens = ['tok_visa', 'tok_visa', 'tok_visa', 'tok_declined', 'tok_slow', 'tok_flaky'];
  let placedCount = 0;
  for (const killAfterMs of [50, 200, 500, 100]) {
    let accepted = 0;
    const attempts = Array.from({ length: 15 }, async (_, index) => {
      placedCount += 1;
      const token = tokens[(placedCount + index) % tokens.length] ?? 'tok_visa';
      const response = await call(baseUrl, 'POST', '/v1/orders', { items: [{ sku: 'CRASH-1', quantity: 1 }], payment: { token } },
        { 'x-dev-customer-id': `cus_crash_${placedCount}`, 'x-dev-roles': '', 'idempotency-key': crypto.randomUUID() }).catch(() => undefined);
      if (response?.status === 202) accepted += 1;
    });
    // Kill once some orders are in flight, at a different moment of their sagas each round.
    const deadline = Date.now() + 15_000;
    while (accepted < 5 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    await new Promise((resolve) => setTimeout(resolve, killAfterMs));
    await killChild();
    await Promise.all(attempts);
    baseUrl = await startChild();
  }

  const orders = await sql<{ id: string }>`select id from orders.orders`.execute(database.db);
  assert.ok(orders.rows.length > 10, `only ${orders.rows.length} orders were accepted`);
  const outcomes = await waitForTerminal(database.db, orders.rows.map((row) => row.id), 120_000);
  const confirmed = [...outcomes.entries()].filter(([, outcome]) => outcome.status === 'CONFIRMED').map(([id]) => id);

  const stock = await (await call(baseUrl, 'GET', '/v1/inventory/CRASH-1')).json() as { onHand: number; reserved: number };
  assert.equal(stock.reserved, 0, 'nothing may stay reserved once every order is terminal');
  assert.equal(stock.onHand, 40 - confirmed.length, 'each confirmed order took exactly one unit');
  const money = await sql<{ order_id: string; captures: number; refunds: number }>`
    select order_id,
           count(*) filter (where operation = 'capture' and outcome = 'succeeded')::int as captures,
           count(*) filter (where operation = 'refund' and outcome = 'succeeded')::int as refunds
    from payments.provider_calls group by order_id`.execute(database.db);
  assert.ok(money.rows.every((row) => row.captures <= 1), `captured more than once: ${JSON.stringify(money.rows.filter((row) => row.captures > 1))}`);
  // A capture that outlived its step timeout is refunded by the compensation: what counts is the money kept.
  const charged = money.rows.filter((row) => row.captures - row.refunds === 1).map((row) => row.order_id);
  assert.deepEqual(charged.sort(), [...confirmed].sort(), 'exactly the confirmed orders keep a payment');
  await killChild();
});
