import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { requireService } from '../../src/platform/testing/services.ts';
import { decodeQuotedPrintable, startLocalSmtpServer } from '../../src/modules/notifications/testing/local-smtp-server.ts';
import { eventually } from './harness/fulfilment-harness.ts';
import { call, signIn, startServicesShape, type RunningShape } from './harness/shapes.ts';

/**
 * Account emails in the services shape: the identity service sends them itself through the SMTP
 * server every process is configured with, and the gateway enforces REQUIRE_EMAIL_VERIFICATION.
 */
const kafka = requireService('Kafka', 'KAFKA_BROKERS');
const linkBase = 'https://shop.example.com/account';

describe('account emails in the services shape', { skip: kafka.skip }, () => {
  let shape: RunningShape;
  let smtp: Awaited<ReturnType<typeof startLocalSmtpServer>>;
  let admin: string;

  before(async () => {
    smtp = await startLocalSmtpServer();
    shape = await startServicesShape({
      kafkaBrokers: kafka.url ?? '',
      env: { EMAIL_TRANSPORT: 'smtp', SMTP_URL: smtp.url, REQUIRE_EMAIL_VERIFICATION: 'true', ACCOUNT_LINK_BASE_URL: linkBase },
    });
    admin = await signIn(shape, 'admin-mail@example.com', { admin: true });
    // The admin made here never verified its address: it may manage the catalogue, not order.
    assert.equal((await call(shape, 'POST', '/v1/products', { token: admin, body: { sku: 'MAILS-1', name: 'Mail mug', price: { amount: 900, currency: 'EUR' } } })).status, 201);
    assert.equal((await call(shape, 'PUT', '/v1/inventory/MAILS-1', { token: admin, body: { onHand: 10 } })).status, 200);
  });
  after(async () => {
    await (shape as RunningShape | undefined)?.stop();
    await smtp.close();
  });

  async function tokenMailed(to: string, subject: RegExp, page: string): Promise<string> {
    const mails = () => smtp.received.filter((mail) => mail.to.includes(to)).map((mail) => decodeQuotedPrintable(mail.raw)).filter((text) => subject.test(text));
    await eventually(() => mails().length > 0, `"${String(subject)}" to ${to}`, 15_000);
    const token = new RegExp(`${linkBase}/${page}#token=([A-Za-z0-9_-]+)`).exec(mails().at(-1) ?? '')?.[1];
    assert.ok(token !== undefined);
    return token;
  }

  const order = (token: string) => call(shape, 'POST', '/v1/orders', {
    token, headers: { 'idempotency-key': crypto.randomUUID() }, body: { items: [{ sku: 'MAILS-1', quantity: 1 }], payment: { token: 'tok_visa' } },
  });

  test('when a customer registers through the gateway, then identity mails the verification link; the gateway refuses orders until it is used', async () => {
    const email = 'verify-services@example.com';
    const password = 'a long enough passphrase';
    assert.equal((await call(shape, 'POST', '/v1/auth/register', { body: { email, password } })).status, 202);
    const session = (await call(shape, 'POST', '/v1/auth/login', { body: { email, password } })).body as { accessToken: string; refreshToken: string };
    const refused = await order(session.accessToken);
    assert.equal(refused.status, 403);
    assert.equal((refused.body as { type: string }).type, 'https://orderstream.dev/problems/email-not-verified');

    const token = await tokenMailed(email, /^Subject: Confirm your email address/m, 'verify-email');
    assert.equal((await call(shape, 'POST', '/v1/auth/verify-email', { body: { token } })).status, 204);
    const refreshed = (await call(shape, 'POST', '/v1/auth/refresh', { body: { refreshToken: session.refreshToken } })).body as { accessToken: string };
    assert.equal((await order(refreshed.accessToken)).status, 202);
    // Nothing of the token went through the outbox to Kafka.
    const outbox = await sql<{ count: number }>`select count(*)::int as count from messaging.outbox where payload::text like ${`%${token}%`}`.execute(shape.databaseOf('identity'));
    assert.equal(outbox.rows[0]?.count, 0);
  });

  test('when a password reset is completed through the gateway, then the earlier refresh token is refused and the new password signs in', async () => {
    const email = 'reset-services@example.com';
    const password = 'a long enough passphrase';
    assert.equal((await call(shape, 'POST', '/v1/auth/register', { body: { email, password } })).status, 202);
    const before = (await call(shape, 'POST', '/v1/auth/login', { body: { email, password } })).body as { refreshToken: string };
    assert.equal((await call(shape, 'POST', '/v1/auth/password-reset', { body: { email } })).status, 202);
    const token = await tokenMailed(email, /^Subject: Reset your password/m, 'reset-password');
    assert.equal((await call(shape, 'POST', '/v1/auth/password-reset/complete', { body: { token, newPassword: 'a brand new passphrase' } })).status, 204);
    assert.equal((await call(shape, 'POST', '/v1/auth/refresh', { body: { refreshToken: before.refreshToken } })).status, 401);
    assert.equal((await call(shape, 'POST', '/v1/auth/login', { body: { email, password: 'a brand new passphrase' } })).status, 200);
  });
});
