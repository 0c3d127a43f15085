import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { decodeQuotedPrintable } from '../../src/modules/notifications/testing/local-smtp-server.ts';
import { eventually, startFulfilment, waitForTerminal, type FulfilmentHarness } from './harness/fulfilment-harness.ts';

// The whole single process with a real SMTP server: account emails leave through it, and tokens come back through the API.
let harness: FulfilmentHarness;
const linkBase = 'https://shop.example.com/account';
const password = 'a long enough passphrase';

before(async () => {
  harness = await startFulfilment({
    DEV_IDENTITY_HEADERS: 'false', REQUIRE_EMAIL_VERIFICATION: 'true', ACCOUNT_LINK_BASE_URL: linkBase, ACCOUNT_EMAIL_INTERVAL_SECONDS: '1',
    LOGIN_FAILURES_BEFORE_DELAY: '2',
  }, { registerWebhook: false });
  // Development headers are off: the seeded admin (its demo address counts as verified) stocks the product.
  const { admin } = await harness.orderstream.identity.seedDemoUsers();
  const asAdmin = { authorization: `Bearer ${(await signIn(admin.email, admin.password)).accessToken}` };
  assert.equal((await post('/v1/products', { sku: 'MAIL-1', name: 'Mail mug', price: { amount: 900, currency: 'EUR' } }, asAdmin)).statusCode, 201);
  assert.equal((await harness.orderstream.app.inject({ method: 'PUT', url: '/v1/inventory/MAIL-1', headers: asAdmin, payload: { onHand: 100 } })).statusCode, 200);
});
after(async () => { await harness.close(); });

type Answer = Awaited<ReturnType<FulfilmentHarness['orderstream']['app']['inject']>>;

function post(url: string, payload: Record<string, unknown>, headers: Record<string, string> = {}): Promise<Answer> {
  return harness.orderstream.app.inject({ method: 'POST', url, payload, headers });
}

let sequence = 0;
function newEmail(label: string): string {
  sequence += 1;
  return `${label}-${sequence}-${crypto.randomUUID().slice(0, 8)}@example.com`;
}

/** Decoded emails received for `to` whose subject matches. */
function mailsTo(to: string, subject: RegExp): string[] {
  return harness.smtp.received.filter((mail) => mail.to.includes(to)).map((mail) => decodeQuotedPrintable(mail.data)).filter((text) => subject.test(text));
}

/** Waits for the `count`th email to `to` whose subject matches, and answers the token its link carries. */
async function tokenMailed(to: string, subject: RegExp, page: string, count = 1): Promise<string> {
  await eventually(() => mailsTo(to, subject).length >= count, `email ${count} "${String(subject)}" to ${to}`, 10_000);
  const mail = mailsTo(to, subject)[count - 1] ?? '';
  const token = new RegExp(`${linkBase}/${page}#token=([A-Za-z0-9_-]+)`).exec(mail)?.[1];
  assert.ok(token !== undefined, `a ${page} link in:\n${mail}`);
  return token;
}

async function register(email: string): Promise<void> {
  const answer = await post('/v1/auth/register', { email, password });
  assert.equal(answer.statusCode, 202, answer.body);
}

async function signIn(email: string, secret = password): Promise<{ accessToken: string; refreshToken: string }> {
  const answer = await post('/v1/auth/login', { email, password: secret });
  assert.equal(answer.statusCode, 200, answer.body);
  return answer.json();
}

function placeOrder(accessToken: string): Promise<Answer> {
  return post('/v1/orders', { items: [{ sku: 'MAIL-1', quantity: 1 }], payment: { token: 'tok_visa' } }, {
    authorization: `Bearer ${accessToken}`, 'idempotency-key': crypto.randomUUID(),
  });
}

function assertProblem(answer: Answer, status: number, slug: string): void {
  assert.equal(answer.statusCode, status, answer.body);
  assert.equal(answer.json<{ type: string }>().type, `https://orderstream.dev/problems/${slug}`);
}

async function outboxMentions(text: string): Promise<number> {
  const rows = await sql<{ count: number }>`select count(*)::int as count from messaging.outbox where payload::text like ${`%${text}%`}`.execute(harness.db);
  return rows.rows[0]?.count ?? -1;
}

describe('registration that does not tell which emails have accounts', () => {
  test('when a taken email registers, then the answer is exactly a new account\'s, no account is made, and the owner gets a notice email', async () => {
    const owner = newEmail('owner');
    await register(owner);
    const fresh = await post('/v1/auth/register', { email: newEmail('fresh'), password });
    const taken = await post('/v1/auth/register', { email: owner.toUpperCase(), password: 'someone else\'s passphrase' });
    assert.deepEqual([taken.statusCode, taken.body, taken.headers['content-type']], [fresh.statusCode, fresh.body, fresh.headers['content-type']]);
    const users = await sql<{ count: number }>`select count(*)::int as count from identity.users where email = ${owner}`.execute(harness.db);
    assert.equal(users.rows[0]?.count, 1);
    await eventually(() => mailsTo(owner, /^Subject: Someone tried to register with your address/m).length === 1, 'the notice email', 10_000);
    assert.match(mailsTo(owner, /^Subject: Someone tried/m)[0] ?? '', /If it was you, sign in with your password, or reset it/);
    await signIn(owner);
  });
});

describe('email verification with REQUIRE_EMAIL_VERIFICATION', () => {
  test('when an unverified customer orders, then 403 email-not-verified; after the emailed token is used (once) and the token refreshed, the order goes through', async () => {
    const email = newEmail('verify');
    await register(email);
    const session = await signIn(email);
    assertProblem(await placeOrder(session.accessToken), 403, 'email-not-verified');

    const token = await tokenMailed(email, /^Subject: Confirm your email address/m, 'verify-email');
    assert.equal((await post('/v1/auth/verify-email', { token })).statusCode, 204);
    assertProblem(await post('/v1/auth/verify-email', { token }), 400, 'invalid-account-token');

    // The old access token still says unverified; a refreshed one says verified.
    assertProblem(await placeOrder(session.accessToken), 403, 'email-not-verified');
    const refreshed = await post('/v1/auth/refresh', { refreshToken: session.refreshToken });
    assert.equal(refreshed.statusCode, 200, refreshed.body);
    const placed = await placeOrder(refreshed.json<{ accessToken: string }>().accessToken);
    assert.equal(placed.statusCode, 202, placed.body);
    const orderId = placed.json<{ id: string }>().id;
    assert.equal((await waitForTerminal(harness.db, [orderId])).get(orderId)?.status, 'CONFIRMED');
  });

  test('when a token is made up, then 400 invalid-account-token', async () => {
    assertProblem(await post('/v1/auth/verify-email', { token: 'not-a-token-anyone-was-sent' }), 400, 'invalid-account-token');
  });
});

describe('password reset by email', () => {
  test('when the emailed token sets a new password, then it works once, every earlier session ends, the old password stops working, and the token never reaches the outbox', async () => {
    const email = newEmail('reset');
    await register(email);
    const before = await signIn(email);
    const asked = await post('/v1/auth/password-reset', { email });
    assert.equal(asked.statusCode, 202, asked.body);
    const token = await tokenMailed(email, /^Subject: Reset your password/m, 'reset-password');

    assert.equal((await post('/v1/auth/password-reset/complete', { token, newPassword: 'a brand new passphrase' })).statusCode, 204);
    assertProblem(await post('/v1/auth/password-reset/complete', { token, newPassword: 'yet another passphrase' }), 400, 'invalid-account-token');

    assert.equal((await post('/v1/auth/refresh', { refreshToken: before.refreshToken })).statusCode, 401);
    const ownOrders = await harness.orderstream.app.inject({ method: 'GET', url: '/v1/orders', headers: { authorization: `Bearer ${before.accessToken}` } });
    assert.equal(ownOrders.statusCode, 401, 'the access token of before the reset is refused');
    assert.equal((await post('/v1/auth/login', { email, password })).statusCode, 401);
    await signIn(email, 'a brand new passphrase');
    assert.equal(await outboxMentions(token), 0);
  });

  test('when an unknown email asks for a reset, then the same 202 answer as a known one and no email is sent', async () => {
    const known = newEmail('known');
    await register(known);
    const unknown = newEmail('nobody');
    const knownAnswer = await post('/v1/auth/password-reset', { email: known });
    const unknownAnswer = await post('/v1/auth/password-reset', { email: unknown });
    assert.deepEqual([unknownAnswer.statusCode, unknownAnswer.body], [knownAnswer.statusCode, knownAnswer.body]);
    await tokenMailed(known, /^Subject: Reset your password/m, 'reset-password');
    assert.equal(harness.smtp.received.filter((mail) => mail.to.includes(unknown)).length, 0);
  });

  test('when an account asks again within the interval, then no second email; after it, a new token replaces the old one', async () => {
    const email = newEmail('twice');
    await register(email);
    assert.equal((await post('/v1/auth/password-reset', { email })).statusCode, 202);
    assert.equal((await post('/v1/auth/password-reset', { email })).statusCode, 202);
    const first = await tokenMailed(email, /^Subject: Reset your password/m, 'reset-password');
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(mailsTo(email, /^Subject: Reset your password/m).length, 1, 'one email within the interval');

    await new Promise((resolve) => setTimeout(resolve, 1100));
    assert.equal((await post('/v1/auth/password-reset', { email })).statusCode, 202);
    const second = await tokenMailed(email, /^Subject: Reset your password/m, 'reset-password', 2);
    assert.notEqual(second, first);
    assertProblem(await post('/v1/auth/password-reset/complete', { token: first, newPassword: 'a brand new passphrase' }), 400, 'invalid-account-token');
    assert.equal((await post('/v1/auth/password-reset/complete', { token: second, newPassword: 'a brand new passphrase' })).statusCode, 204);
  });

  test('when a reset token has expired, then it is refused and the password is unchanged', async () => {
    const email = newEmail('expired');
    await register(email);
    await post('/v1/auth/password-reset', { email });
    const token = await tokenMailed(email, /^Subject: Reset your password/m, 'reset-password');
    await sql`update identity.account_tokens set expires_at = now() - interval '1 second'
      where user_id = (select id from identity.users where email = ${email}) and purpose = 'password-reset'`.execute(harness.db);
    assertProblem(await post('/v1/auth/password-reset/complete', { token, newPassword: 'a brand new passphrase' }), 400, 'invalid-account-token');
    await signIn(email);
  });

  test('when the new password is weak, then 400 names newPassword and the token still works', async () => {
    const email = newEmail('weak');
    await register(email);
    await post('/v1/auth/password-reset', { email });
    const token = await tokenMailed(email, /^Subject: Reset your password/m, 'reset-password');
    const weak = await post('/v1/auth/password-reset/complete', { token, newPassword: 'short' });
    assertProblem(weak, 400, 'validation-error');
    assert.ok(weak.json<{ errors: { field: string }[] }>().errors.some((error) => error.field === 'newPassword'), weak.body);
    assert.equal((await post('/v1/auth/password-reset/complete', { token, newPassword: 'a brand new passphrase' })).statusCode, 204);
  });
});

describe('one-time sign-in link', () => {
  test('when an owner is throttled by failed guesses, then the emailed link signs them in once, and their password works again', async () => {
    const email = newEmail('locked');
    await register(email);
    let throttled: Answer | undefined;
    for (let attempt = 0; attempt < 12 && throttled === undefined; attempt += 1) {
      const guess = await post('/v1/auth/login', { email, password: 'a wrong guess of the passphrase' });
      if (guess.statusCode === 429) throttled = guess;
    }
    assert.ok(throttled, 'the guesses were throttled');
    assert.equal((await post('/v1/auth/login', { email, password })).statusCode, 429, 'the owner is locked out too');

    assert.equal((await post('/v1/auth/sign-in-link', { email })).statusCode, 202);
    const token = await tokenMailed(email, /^Subject: Your sign-in link/m, 'sign-in');
    const signedIn = await post('/v1/auth/sign-in-link/complete', { token });
    assert.equal(signedIn.statusCode, 200, signedIn.body);
    assert.equal(signedIn.headers['cache-control'], 'no-store');
    const pair = signedIn.json<{ accessToken: string; refreshToken: string }>();
    assertProblem(await post('/v1/auth/sign-in-link/complete', { token }), 400, 'invalid-account-token');

    // The link proved the address too: this customer may order.
    assert.equal((await placeOrder(pair.accessToken)).statusCode, 202);
    await signIn(email);
  });

  test('when an unknown email asks for a link, then the same 202 answer and nothing is sent', async () => {
    const unknown = newEmail('ghost');
    const answer = await post('/v1/auth/sign-in-link', { email: unknown });
    assert.equal(answer.statusCode, 202);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(harness.smtp.received.filter((mail) => mail.to.includes(unknown)).length, 0);
  });
});
