import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import { startFulfilment, type FulfilmentHarness } from './harness/fulfilment-harness.ts';

// Sign-in throttling through the whole single process's HTTP API: attempts are counted before any
// hashing and in one step, so concurrency never gets past a budget; an attacker slows down only
// their own address (and, spread over many addresses, the account a little), never the owner.

const password = 'correct horse battery';
const addressBudget = 30;
let harness: FulfilmentHarness;

before(async () => {
  harness = await startFulfilment({ LOGIN_ADDRESS_BUDGET: String(addressBudget), LOGIN_ADDRESS_WINDOW_SECONDS: '3600' }, { registerWebhook: false });
});
after(async () => { await harness.close(); });

let accounts = 0;
async function registered(): Promise<string> {
  accounts += 1;
  const email = `throttled-${accounts}-${crypto.randomUUID().slice(0, 8)}@example.com`;
  const response = await harness.orderstream.app.inject({ method: 'POST', url: '/v1/auth/register', payload: { email, password } });
  // 201, or 202 where registration does not reveal whether the email was new.
  assert.ok(response.statusCode === 201 || response.statusCode === 202, response.body);
  return email;
}

function signIn(email: string, secret: string, remoteAddress: string) {
  return harness.orderstream.app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email, password: secret }, remoteAddress });
}

/** Checks a refusal is the throttle's 429 problem+json and answers its Retry-After. */
function retryAfterOf(response: { statusCode: number; headers: Record<string, unknown>; body: string }): number {
  assert.equal(response.statusCode, 429, response.body);
  assert.match(String(response.headers['content-type']), /^application\/problem\+json/);
  assert.equal((JSON.parse(response.body) as { type: string }).type, 'https://orderstream.dev/problems/too-many-sign-in-attempts');
  const seconds = Number(response.headers['retry-after']);
  assert.ok(Number.isInteger(seconds) && seconds >= 1, `Retry-After ${String(response.headers['retry-after'])}`);
  return seconds;
}

async function pairFailures(email: string, address: string): Promise<number | undefined> {
  const rows = await sql<{ failures: number }>`
    select failures from identity.login_throttle_pairs where account = ${email} and address = ${address}`.execute(harness.db);
  return rows.rows[0]?.failures;
}

async function accountFailures(email: string): Promise<number | undefined> {
  const rows = await sql<{ failures: number }>`select failures from identity.login_throttle_accounts where account = ${email}`.execute(harness.db);
  return rows.rows[0]?.failures;
}

function statusCounts(responses: readonly { statusCode: number }[]): Record<number, number> {
  const counts: Record<number, number> = {};
  for (const response of responses) counts[response.statusCode] = (counts[response.statusCode] ?? 0) + 1;
  return counts;
}

describe('sign-in throttling through the single process', () => {
  test('when 50 wrong passwords for one account arrive at once from one address, then 5 are checked and counted and 45 get 429 with Retry-After', async () => {
    const email = await registered();
    const responses = await Promise.all(Array.from({ length: 50 }, () => signIn(email, 'wrong password!', '203.0.113.10')));
    assert.deepEqual(statusCounts(responses), { 401: 5, 429: 45 });
    for (const response of responses.filter((candidate) => candidate.statusCode === 429)) retryAfterOf(response);
    assert.equal(await pairFailures(email, '203.0.113.10'), 5);
    assert.equal(await accountFailures(email), 5);
    const spent = await sql<{ level: number }>`select level from identity.login_throttle_addresses where address = '203.0.113.10'`.execute(harness.db);
    assert.ok(Math.abs((spent.rows[0]?.level ?? 0) - 5) < 0.1, `address level ${String(spent.rows[0]?.level)}`);
  });

  test('when 50 wrong passwords for one account arrive at once from 50 addresses, then no more than the account-wide 20 are checked, the rest get 429', async () => {
    const email = await registered();
    const responses = await Promise.all(Array.from({ length: 50 }, (_, index) => signIn(email, 'wrong password!', `198.51.100.${index + 1}`)));
    assert.deepEqual(statusCounts(responses), { 401: 20, 429: 30 });
    // The 20th failure shut the account for 1 s; a refused attempt read its clock up to a moment earlier.
    for (const response of responses.filter((candidate) => candidate.statusCode === 429)) assert.ok(retryAfterOf(response) <= 2);
    assert.equal(await accountFailures(email), 20);
    const pairs = await sql<{ total: number }>`
      select coalesce(sum(failures), 0)::int as total from identity.login_throttle_pairs where account = ${email}`.execute(harness.db);
    assert.equal(pairs.rows[0]?.total, 20);
  });

  test('when an attacker fails many times from one address, then the owner signs in from another, and the attacker waits longer after each failure', async () => {
    const email = await registered();
    const attacker = '192.0.2.66';
    for (let attempt = 0; attempt < 5; attempt += 1) assert.equal((await signIn(email, 'wrong password!', attacker)).statusCode, 401);
    const waits = [retryAfterOf(await signIn(email, 'wrong password!', attacker))];
    assert.equal((await signIn(email, password, '192.0.2.77')).statusCode, 200, 'the owner is not locked out');
    for (let round = 0; round < 2; round += 1) {
      await sleep((waits.at(-1) ?? 0) * 1000 + 100);
      assert.equal((await signIn(email, 'wrong password!', attacker)).statusCode, 401);
      // Even the right password waits: the delay holds for the pair, whatever is sent.
      waits.push(retryAfterOf(await signIn(email, password, attacker)));
    }
    assert.deepEqual(waits, [1, 2, 4]);
    assert.equal(await pairFailures(email, attacker), 7);
    const owner = await signIn(email, password, '192.0.2.77');
    assert.equal(owner.statusCode, 200, owner.body);
  });

  test('when one address sprays many accounts, then that address gets 429 for every account, and the accounts still sign in from elsewhere', async () => {
    const sprayer = '192.0.2.99';
    const real = [await registered(), await registered(), await registered()];
    const targets = [...real, ...Array.from({ length: addressBudget - real.length }, (_, index) => `sprayed-${index}@example.com`)];
    for (const email of targets) assert.equal((await signIn(email, 'Summer2026!!', sprayer)).statusCode, 401);

    const refused = await signIn(real[0] ?? '', password, sprayer);
    // One attempt's worth of budget refills in 3600 / 30 = 120 s, less what has drained while spraying.
    const wait = retryAfterOf(refused);
    assert.ok(wait > 100 && wait <= 3600 / addressBudget, String(wait));
    assert.equal(await pairFailures(real[0] ?? '', sprayer), 1, 'a refused attempt counts nothing');
    retryAfterOf(await signIn('someone-new@example.com', 'Summer2026!!', sprayer));
    for (const email of real) {
      const owner = await signIn(email, password, '192.0.2.100');
      assert.equal(owner.statusCode, 200, owner.body);
    }
  });
});
