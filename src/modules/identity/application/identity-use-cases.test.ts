import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  EmailTakenError, InvalidClientError, InvalidCredentialsError, InvalidRegistrationError, LoginThrottledError, RefreshTokenRefusedError, UserNotFoundError,
} from '../domain/identity.errors.ts';
import { defaultThrottlePolicy } from '../domain/login-throttle.ts';
import { claimsOf, identityHarness } from '../testing/identity-harness.ts';
import { ForgiveSignInFailures } from './forgive-sign-in-failures.ts';

const password = 'a sturdy passphrase';

describe('RegisterUser', () => {
  test('when the email and password are valid, then a customer is stored with a normalised email and one event is published', async () => {
    const identity = identityHarness();
    const user = await identity.registerUser.execute({ email: '  Ada@Example.COM ', password });
    assert.equal(user.email, 'ada@example.com');
    assert.deepEqual(user.roles, ['customer']);
    assert.equal(identity.users.users.get(user.id)?.passwordHash, `hashed:${password}`);
    assert.deepEqual(identity.users.published, [{ userId: user.id, email: 'ada@example.com', roles: ['customer'], registeredAt: user.createdAt.toISOString() }]);
  });

  test('when the email is taken in another letter case, then it fails and nothing more is stored or published', async () => {
    const identity = identityHarness();
    await identity.registerUser.execute({ email: 'ada@example.com', password });
    await assert.rejects(identity.registerUser.execute({ email: 'ADA@example.com', password }), EmailTakenError);
    assert.equal(identity.users.users.size, 1);
    assert.equal(identity.users.published.length, 1);
  });

  test('when the password is short or common, then it fails naming the password and nothing is stored', async () => {
    const identity = identityHarness();
    for (const weak of ['short-pass', 'Password1234']) {
      await assert.rejects(identity.registerUser.execute({ email: 'ada@example.com', password: weak }), (error: unknown) => error instanceof InvalidRegistrationError && error.field === 'password');
    }
    assert.equal(identity.users.users.size, 0);
  });
});

describe('LogIn', () => {
  test('when the password is right, then a token pair for the user comes back and a refresh token is stored only as a digest', async () => {
    const identity = identityHarness();
    const user = await identity.registerUser.execute({ email: 'ada@example.com', password });
    const pair = await identity.logIn.execute({ email: 'ADA@example.com ', password, clientAddress: '10.0.0.1' });
    const claims = claimsOf(pair.accessToken);
    assert.equal(claims.subject, user.id);
    assert.deepEqual(claims.roles, ['customer']);
    assert.equal(pair.expiresIn, 900);
    assert.ok(identity.sessions.tokens.has(`digest:${pair.refreshToken}`));
    assert.ok(!identity.sessions.tokens.has(pair.refreshToken));
  });

  test('when the account does not exist, then the dummy hash is verified (as much work as a real check) and the answer is the same as a wrong password', async () => {
    const identity = identityHarness();
    await identity.registerUser.execute({ email: 'ada@example.com', password });
    const unknown = await identity.logIn.execute({ email: 'nobody@example.com', password, clientAddress: undefined }).catch((error: unknown) => error);
    assert.deepEqual(identity.passwords.dummyVerifications, [password]);
    const wrong = await identity.logIn.execute({ email: 'ada@example.com', password: 'not the password', clientAddress: undefined }).catch((error: unknown) => error);
    assert.deepEqual(identity.passwords.dummyVerifications, [password]);
    assert.ok(unknown instanceof InvalidCredentialsError && wrong instanceof InvalidCredentialsError);
    assert.equal(unknown.message, wrong.message);
  });

  test('when one address fails 5 times for an account, then it waits 1 s, then 2 s, without hashing, while the right password from another address signs in at once', async () => {
    const identity = identityHarness();
    await identity.registerUser.execute({ email: 'ada@example.com', password });
    for (let attempt = 0; attempt < 5; attempt += 1) {
      await assert.rejects(identity.logIn.execute({ email: 'ada@example.com', password: 'wrong guess', clientAddress: '10.6.6.6' }), InvalidCredentialsError);
    }
    const verificationsBefore = identity.passwords.verifications.length;
    const first = await identity.logIn.execute({ email: 'ada@example.com', password, clientAddress: '10.6.6.6' }).catch((error: unknown) => error);
    assert.ok(first instanceof LoginThrottledError);
    assert.equal(first.retryAfterSeconds, 1);
    assert.equal(identity.passwords.verifications.length, verificationsBefore, 'no hashing while the pair waits');
    await identity.logIn.execute({ email: 'ada@example.com', password, clientAddress: '10.7.7.7' });

    identity.advance(1000);
    await assert.rejects(identity.logIn.execute({ email: 'ada@example.com', password: 'wrong guess', clientAddress: '10.6.6.6' }), InvalidCredentialsError);
    const second = await identity.logIn.execute({ email: 'ada@example.com', password, clientAddress: '10.6.6.6' }).catch((error: unknown) => error);
    assert.ok(second instanceof LoginThrottledError);
    assert.equal(second.retryAfterSeconds, 2);
    identity.advance(2000);
    await identity.logIn.execute({ email: 'ada@example.com', password, clientAddress: '10.6.6.6' });
    assert.equal(identity.throttle.pairs.size, 0, 'a success forgets the pair');
  });

  test('when one address spends its budget on many accounts, then it is refused for every account, and the accounts still sign in from elsewhere', async () => {
    const identity = identityHarness({ policy: { ...defaultThrottlePolicy, addressBudget: 10, addressWindowSeconds: 600 } });
    await identity.registerUser.execute({ email: 'ada@example.com', password });
    for (let attempt = 0; attempt < 10; attempt += 1) {
      await assert.rejects(identity.logIn.execute({ email: `guess${attempt}@example.com`, password, clientAddress: '10.6.6.6' }), InvalidCredentialsError);
    }
    const refused = await identity.logIn.execute({ email: 'ada@example.com', password, clientAddress: '10.6.6.6' }).catch((error: unknown) => error);
    assert.ok(refused instanceof LoginThrottledError);
    assert.equal(refused.retryAfterSeconds, 60);
    await identity.logIn.execute({ email: 'ada@example.com', password, clientAddress: '10.7.7.7' });
  });

  test('when many addresses fail for one account, then every attempt for it waits a little (the owner too), never more than the account cap', async () => {
    const identity = identityHarness();
    await identity.registerUser.execute({ email: 'ada@example.com', password });
    for (let address = 0; address < 4; address += 1) {
      for (let attempt = 0; attempt < 5; attempt += 1) {
        await assert.rejects(identity.logIn.execute({ email: 'ada@example.com', password: 'wrong guess', clientAddress: `10.0.0.${address}` }), InvalidCredentialsError);
      }
    }
    const owner = await identity.logIn.execute({ email: 'ada@example.com', password, clientAddress: '10.9.9.9' }).catch((error: unknown) => error);
    assert.ok(owner instanceof LoginThrottledError);
    assert.equal(owner.retryAfterSeconds, 1);
    identity.advance(1000);
    await identity.logIn.execute({ email: 'ada@example.com', password, clientAddress: '10.9.9.9' });
    assert.equal(identity.throttle.accounts.get('ada@example.com')?.failures, 20, 'the owner\'s success is given back, the guesses stay counted');
  });

  test('when the owner proves control of the mailbox, then the delays on the account are lifted at once, but not an address\'s spent budget', async () => {
    const identity = identityHarness();
    await identity.registerUser.execute({ email: 'ada@example.com', password });
    for (let attempt = 0; attempt < 5; attempt += 1) {
      await assert.rejects(identity.logIn.execute({ email: 'ada@example.com', password: 'wrong guess', clientAddress: '10.6.6.6' }), InvalidCredentialsError);
    }
    await assert.rejects(identity.logIn.execute({ email: 'ada@example.com', password, clientAddress: '10.6.6.6' }), LoginThrottledError);
    await new ForgiveSignInFailures({ throttle: identity.throttle }).execute(' ADA@example.com');
    assert.equal(identity.throttle.pairs.size + identity.throttle.accounts.size, 0);
    await identity.logIn.execute({ email: 'ada@example.com', password, clientAddress: '10.6.6.6' });

    const spent = identityHarness({ policy: { ...defaultThrottlePolicy, addressBudget: 5 } });
    await spent.registerUser.execute({ email: 'ada@example.com', password });
    for (let attempt = 0; attempt < 5; attempt += 1) {
      await assert.rejects(spent.logIn.execute({ email: `guess${attempt}@example.com`, password, clientAddress: '10.6.6.6' }), InvalidCredentialsError);
    }
    await new ForgiveSignInFailures({ throttle: spent.throttle }).execute('ada@example.com');
    await assert.rejects(spent.logIn.execute({ email: 'ada@example.com', password, clientAddress: '10.6.6.6' }), LoginThrottledError);
  });

  test('when the password cannot be checked, then the attempt is given back and the error passes through', async () => {
    const identity = identityHarness();
    await identity.registerUser.execute({ email: 'ada@example.com', password });
    identity.passwords.verify = () => Promise.reject(new Error('hashing overloaded'));
    await assert.rejects(identity.logIn.execute({ email: 'ada@example.com', password, clientAddress: '10.6.6.6' }), /hashing overloaded/);
    assert.equal(identity.throttle.pairs.get('ada@example.com\n10.6.6.6')?.failures, 0);
    assert.equal(identity.throttle.addresses.get('10.6.6.6')?.level, 0);
    assert.equal(identity.throttle.accounts.get('ada@example.com')?.failures, 0);
  });
});

describe('RefreshSession and LogOut', () => {
  async function signedIn() {
    const identity = identityHarness();
    await identity.registerUser.execute({ email: 'ada@example.com', password });
    return { identity, pair: await identity.logIn.execute({ email: 'ada@example.com', password, clientAddress: undefined }) };
  }

  test('when a refresh token is used, then a new pair comes back in the same family and the old token is used up', async () => {
    const { identity, pair } = await signedIn();
    const next = await identity.refreshSession.execute(pair.refreshToken);
    assert.notEqual(next.refreshToken, pair.refreshToken);
    const old = identity.sessions.tokens.get(`digest:${pair.refreshToken}`);
    assert.ok(old?.usedAt);
    assert.equal(identity.sessions.tokens.get(`digest:${next.refreshToken}`)?.familyId, old.familyId);
  });

  test('when a used refresh token is presented again, then it is refused as reused and the newest token of its family stops working too', async () => {
    const { identity, pair } = await signedIn();
    const next = await identity.refreshSession.execute(pair.refreshToken);
    await assert.rejects(identity.refreshSession.execute(pair.refreshToken), (error: unknown) => error instanceof RefreshTokenRefusedError && error.refusal === 'reused');
    await assert.rejects(identity.refreshSession.execute(next.refreshToken), (error: unknown) => error instanceof RefreshTokenRefusedError && error.refusal === 'revoked');
  });

  test('when the refresh token has expired or was never issued, then it is refused and nothing is revoked', async () => {
    const { identity, pair } = await signedIn();
    await assert.rejects(identity.refreshSession.execute('never-issued'), (error: unknown) => error instanceof RefreshTokenRefusedError && error.refusal === 'unknown');
    identity.advance(31 * 24 * 60 * 60 * 1000);
    await assert.rejects(identity.refreshSession.execute(pair.refreshToken), (error: unknown) => error instanceof RefreshTokenRefusedError && error.refusal === 'expired');
    assert.ok([...identity.sessions.families.values()].every((family) => family.revokedAt === undefined));
  });

  test('when logging out, then the family is revoked and its refresh token no longer works; an unknown token changes nothing', async () => {
    const { identity, pair } = await signedIn();
    await identity.logOut.execute('never-issued');
    await identity.logOut.execute(pair.refreshToken);
    await assert.rejects(identity.refreshSession.execute(pair.refreshToken), (error: unknown) => error instanceof RefreshTokenRefusedError && error.refusal === 'revoked');
    assert.deepEqual([...identity.sessions.families.values()].map((family) => family.revokedReason), ['logout']);
  });

  test('when an admin role is granted after sign-in, then the next refreshed token carries it', async () => {
    const { identity, pair } = await signedIn();
    await identity.grantAdmin.execute('ADA@example.com');
    assert.deepEqual(claimsOf((await identity.refreshSession.execute(pair.refreshToken)).accessToken).roles, ['customer', 'admin']);
  });
});

describe('RotateSigningKey and ListPublishedKeys', () => {
  test('when the first token is issued, then a key is made and signs it', async () => {
    const identity = identityHarness();
    await identity.registerUser.execute({ email: 'ada@example.com', password });
    const pair = await identity.logIn.execute({ email: 'ada@example.com', password, clientAddress: undefined });
    assert.equal(claimsOf(pair.accessToken).kid, 'key-1');
    assert.deepEqual((await identity.listPublishedKeys.execute()).map((key) => key.kid), ['key-1']);
  });

  test('when the key is rotated, then new tokens use the new key and the old key stays published until its tokens have expired', async () => {
    const identity = identityHarness({ accessTokenTtlSeconds: 600 });
    assert.equal(await identity.rotateSigningKey.execute({ onlyIfDue: false }), true);
    identity.advance(1000);
    assert.equal(await identity.rotateSigningKey.execute({ onlyIfDue: false }), true);
    const service = await identity.createServiceClient.execute('billing');
    const token = await identity.issueServiceToken.execute({ clientId: service.clientId, clientSecret: service.clientSecret });
    assert.equal(claimsOf(token.accessToken).kid, 'key-2');
    assert.deepEqual((await identity.listPublishedKeys.execute()).map((key) => key.kid), ['key-2', 'key-1']);
    identity.advance((600 + 30) * 1000 - 1);
    assert.deepEqual((await identity.listPublishedKeys.execute()).map((key) => key.kid), ['key-2', 'key-1']);
    identity.advance(1);
    assert.deepEqual((await identity.listPublishedKeys.execute()).map((key) => key.kid), ['key-2']);
  });

  test('when the schedule runs, then it rotates only once the key is older than the rotation period', async () => {
    const identity = identityHarness();
    assert.equal(await identity.rotateSigningKey.execute({ onlyIfDue: true }), true, 'no key yet');
    identity.advance(29 * 24 * 60 * 60 * 1000);
    assert.equal(await identity.rotateSigningKey.execute({ onlyIfDue: true }), false);
    identity.advance(24 * 60 * 60 * 1000);
    assert.equal(await identity.rotateSigningKey.execute({ onlyIfDue: true }), true);
    assert.equal(identity.keys.keys.length, 2);
  });
});

describe('Service clients', () => {
  test('when a client is created, then its secret is answered once, stored only as a digest, and buys a service token', async () => {
    const identity = identityHarness();
    const created = await identity.createServiceClient.execute(' Billing-Worker ');
    assert.equal(created.name, 'billing-worker');
    const stored = identity.clients.clients.get(created.clientId);
    assert.equal(stored?.secretHash, `digest:${created.clientSecret}`);
    const token = await identity.issueServiceToken.execute({ clientId: created.clientId, clientSecret: created.clientSecret });
    assert.deepEqual(claimsOf(token.accessToken).roles, ['service']);
    assert.equal(claimsOf(token.accessToken).subject, created.clientId);
  });

  test('when the secret or the client id is wrong, then it is refused', async () => {
    const identity = identityHarness();
    const created = await identity.createServiceClient.execute('billing');
    await assert.rejects(identity.issueServiceToken.execute({ clientId: created.clientId, clientSecret: 'wrong' }), InvalidClientError);
    await assert.rejects(identity.issueServiceToken.execute({ clientId: 'svc_missing', clientSecret: created.clientSecret }), InvalidClientError);
  });
});

describe('GrantAdmin and SeedDemoUsers', () => {
  test('when the email has no account, then granting admin fails with not found', async () => {
    await assert.rejects(identityHarness().grantAdmin.execute('ghost@example.com'), UserNotFoundError);
  });

  test('when the demo users are seeded twice, then there is one admin and one customer and both sign in with the answered credentials', async () => {
    const identity = identityHarness();
    const first = await identity.seedDemoUsers.execute();
    const second = await identity.seedDemoUsers.execute();
    assert.deepEqual(second, first);
    assert.equal(identity.users.users.size, 2);
    assert.equal(identity.users.published.length, 2);
    const admin = await identity.logIn.execute({ ...first.admin, clientAddress: undefined });
    assert.deepEqual(claimsOf(admin.accessToken).roles, ['customer', 'admin']);
    const customer = await identity.logIn.execute({ ...first.customer, clientAddress: undefined });
    assert.deepEqual(claimsOf(customer.accessToken).roles, ['customer']);
  });
});
