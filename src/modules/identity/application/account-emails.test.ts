import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { renderAccountEmail } from '../domain/account-email.ts';
import { defaultThrottlePolicy } from '../domain/login-throttle.ts';
import { AccountTokenRefusedError, InvalidRegistrationError } from '../domain/identity.errors.ts';
import { claimsOf } from '../testing/identity-harness.ts';
import { InMemoryAccountEmailBudget, InMemoryAccountTokenStore, RecordingAccountMailer } from '../testing/in-memory-account-emails.ts';
import {
  FakeAccessTokenSigner, FakePasswordHasher, FakeSecretTokens, FakeSigningKeyGenerator, InMemorySessionStore,
  InMemorySigningKeyRepository, InMemoryUserRepository,
} from '../testing/in-memory-identity.ts';
import { InMemoryLoginThrottleStore } from '../testing/in-memory-login-throttle-store.ts';
import { CompletePasswordReset } from './complete-password-reset.ts';
import { IssueAccessToken } from './issue-access-token.ts';
import { RegisterUser } from './register-user.ts';
import { RequestAccountLink } from './request-account-link.ts';
import { SendAccountEmail } from './send-account-email.ts';
import { SignInWithLink } from './sign-in-with-link.ts';
import { SignUp } from './sign-up.ts';
import { StartSession } from './start-session.ts';
import { VerifyEmail } from './verify-email.ts';

const password = 'correct horse battery';

/** The account-email use cases on in-memory adapters, with one clock a test moves. */
function accountEmails() {
  let nowMs = Date.UTC(2026, 0, 1);
  const now = () => new Date(nowMs);
  const users = new InMemoryUserRepository();
  const passwords = new FakePasswordHasher();
  const hashed: string[] = [];
  const countingPasswords = Object.assign(Object.create(passwords) as FakePasswordHasher, {
    hash: (plain: string) => { hashed.push(plain); return passwords.hash(plain); },
  });
  const secrets = new FakeSecretTokens();
  const tokens = new InMemoryAccountTokenStore(users);
  const mailer = new RecordingAccountMailer();
  const sessions = new InMemorySessionStore();
  const throttle = new InMemoryLoginThrottleStore(defaultThrottlePolicy);
  const revoked: { userId: string; reason: string }[] = [];
  const settings = { issuer: 'https://id.test', audience: 'orderstream', accessTokenTtlSeconds: 900, clockSkewSeconds: 30 };
  const issueAccessToken = new IssueAccessToken({ keys: new InMemorySigningKeyRepository(), generator: new FakeSigningKeyGenerator(), signer: new FakeAccessTokenSigner(), settings, now });
  const startSession = new StartSession({ secrets, issueAccessToken, refreshTokenTtlDays: 30 });
  const sendAccountEmail = new SendAccountEmail({ tokens, budget: new InMemoryAccountEmailBudget(), mailer, secrets, intervalSeconds: 60, now });
  const registerUser = new RegisterUser({ users, passwords: countingPasswords, now });
  return {
    users, tokens, mailer, sessions, throttle, revoked, hashed,
    advance: (ms: number) => { nowMs += ms; },
    signUp: new SignUp({ registerUser, users, passwords: countingPasswords, sendAccountEmail }),
    requestLink: new RequestAccountLink({ users, sendAccountEmail }),
    verifyEmail: new VerifyEmail({ tokens, secrets, now }),
    completeReset: new CompletePasswordReset({
      tokens, passwords: countingPasswords, secrets, now,
      revokeUserSessions: { execute: (userId, reason) => { revoked.push({ userId, reason }); return Promise.resolve({ sessionsRevoked: 0 }); } },
    }),
    signInWithLink: new SignInWithLink({ tokens, users, throttle, sessions, startSession, secrets, now }),
  };
}

describe('SignUp', () => {
  test('when the email is new, then the account is made and a verification token is mailed; when taken, the same hashing is spent and the owner gets a notice', async () => {
    const identity = accountEmails();
    await identity.signUp.execute({ email: 'Ada@Example.com', password });
    const ada = await identity.users.findByEmail('ada@example.com');
    assert.ok(ada);
    assert.deepEqual(identity.mailer.sent.map((email) => [email.kind, email.to]), [['verify-email', 'ada@example.com']]);

    await identity.signUp.execute({ email: 'ADA@example.com', password: 'another long passphrase' });
    assert.deepEqual(identity.hashed, [password, 'another long passphrase']);
    assert.equal(identity.users.users.size, 1);
    assert.equal((await identity.users.findByEmail('ada@example.com'))?.passwordHash, ada.passwordHash);
    assert.deepEqual(identity.mailer.sent.map((email) => [email.kind, email.to]).at(-1), ['registration-notice', 'ada@example.com']);
  });

  test('when the password is weak, then it is refused alike for a new and a taken email, and nothing is mailed', async () => {
    const identity = accountEmails();
    await identity.signUp.execute({ email: 'ada@example.com', password });
    const sent = identity.mailer.sent.length;
    for (const email of ['ada@example.com', 'new@example.com']) {
      await assert.rejects(identity.signUp.execute({ email, password: 'short' }), InvalidRegistrationError);
    }
    assert.equal(identity.mailer.sent.length, sent);
  });
});

describe('RequestAccountLink and the email budget', () => {
  test('when an account asks twice within the interval, then one email; after it, a new token that replaces the first', async () => {
    const identity = accountEmails();
    await identity.signUp.execute({ email: 'ada@example.com', password });
    await identity.requestLink.execute({ email: 'ada@example.com', purpose: 'password-reset' });
    await identity.requestLink.execute({ email: 'ada@example.com', purpose: 'password-reset' });
    assert.equal(identity.mailer.sent.filter((email) => email.kind === 'password-reset').length, 1);
    const first = identity.mailer.lastToken('ada@example.com', 'password-reset');

    identity.advance(60_001);
    await identity.requestLink.execute({ email: 'ada@example.com', purpose: 'password-reset' });
    const second = identity.mailer.lastToken('ada@example.com', 'password-reset');
    assert.notEqual(second, first);
    await assert.rejects(identity.completeReset.execute({ token: first, newPassword: 'a brand new passphrase' }), AccountTokenRefusedError);
    await identity.completeReset.execute({ token: second, newPassword: 'a brand new passphrase' });
  });

  test('when the email is unknown or the account disabled, then nothing is mailed and nothing is thrown', async () => {
    const identity = accountEmails();
    await identity.signUp.execute({ email: 'ada@example.com', password });
    const ada = await identity.users.findByEmail('ada@example.com');
    assert.ok(ada);
    await identity.users.saveDisabled(ada.id, new Date());
    const sent = identity.mailer.sent.length;
    await identity.requestLink.execute({ email: 'nobody@example.com', purpose: 'sign-in-link' });
    await identity.requestLink.execute({ email: 'ada@example.com', purpose: 'sign-in-link' });
    assert.equal(identity.mailer.sent.length, sent);
  });

  test('when a token is stored, then only its digest is kept, never the mailed value', async () => {
    const identity = accountEmails();
    await identity.signUp.execute({ email: 'ada@example.com', password });
    const token = identity.mailer.lastToken('ada@example.com', 'verify-email');
    assert.ok(!identity.tokens.tokens.has(token));
    assert.ok([...identity.tokens.tokens.values()].every((stored) => !JSON.stringify(stored).includes(`"${token}"`)));
  });
});

describe('VerifyEmail', () => {
  test('when the token is used, then the address is verified; the token works once and not after it expires', async () => {
    const identity = accountEmails();
    await identity.signUp.execute({ email: 'ada@example.com', password });
    const token = identity.mailer.lastToken('ada@example.com', 'verify-email');
    await identity.verifyEmail.execute(token);
    assert.ok((await identity.users.findByEmail('ada@example.com'))?.emailVerifiedAt);
    await assert.rejects(identity.verifyEmail.execute(token), AccountTokenRefusedError);

    await identity.signUp.execute({ email: 'bob@example.com', password });
    identity.advance(24 * 60 * 60 * 1000 + 1);
    await assert.rejects(identity.verifyEmail.execute(identity.mailer.lastToken('bob@example.com', 'verify-email')), AccountTokenRefusedError);
    assert.equal((await identity.users.findByEmail('bob@example.com'))?.emailVerifiedAt, undefined);
  });
});

describe('CompletePasswordReset', () => {
  test('when the token is right, then the password changes, the address is verified and every session is revoked; a weak password leaves the token usable', async () => {
    const identity = accountEmails();
    await identity.signUp.execute({ email: 'ada@example.com', password });
    await identity.requestLink.execute({ email: 'ada@example.com', purpose: 'password-reset' });
    const token = identity.mailer.lastToken('ada@example.com', 'password-reset');
    await assert.rejects(identity.completeReset.execute({ token, newPassword: 'short' }), InvalidRegistrationError);
    await identity.completeReset.execute({ token, newPassword: 'a brand new passphrase' });
    const ada = await identity.users.findByEmail('ada@example.com');
    assert.equal(ada?.passwordHash, 'hashed:a brand new passphrase');
    assert.ok(ada.emailVerifiedAt);
    assert.deepEqual(identity.revoked, [{ userId: ada.id, reason: 'password-reset' }]);
  });

  test('when the token is wrong, then it is refused before any password hashing', async () => {
    const identity = accountEmails();
    const hashes = identity.hashed.length;
    await assert.rejects(identity.completeReset.execute({ token: 'made-up', newPassword: 'a brand new passphrase' }), AccountTokenRefusedError);
    assert.equal(identity.hashed.length, hashes);
    assert.deepEqual(identity.revoked, []);
  });

  test('when the token is past its 30 minutes, then it is refused', async () => {
    const identity = accountEmails();
    await identity.signUp.execute({ email: 'ada@example.com', password });
    await identity.requestLink.execute({ email: 'ada@example.com', purpose: 'password-reset' });
    identity.advance(30 * 60 * 1000 + 1);
    await assert.rejects(identity.completeReset.execute({ token: identity.mailer.lastToken('ada@example.com', 'password-reset'), newPassword: 'a brand new passphrase' }), AccountTokenRefusedError);
  });
});

describe('SignInWithLink', () => {
  test('when the link is used, then a pair whose token says the email is verified, the account\'s delays forgiven, and the link spent', async () => {
    const identity = accountEmails();
    await identity.signUp.execute({ email: 'ada@example.com', password });
    await identity.requestLink.execute({ email: 'ada@example.com', purpose: 'sign-in-link' });
    const forgiven: string[] = [];
    const forgive = identity.throttle.forgive.bind(identity.throttle);
    identity.throttle.forgive = (account) => { forgiven.push(account); return forgive(account); };
    const token = identity.mailer.lastToken('ada@example.com', 'sign-in-link');
    const pair = await identity.signInWithLink.execute(token);
    assert.equal((claimsOf(pair.accessToken) as { emailVerified?: boolean }).emailVerified, true);
    assert.deepEqual(forgiven, ['ada@example.com']);
    assert.equal(identity.sessions.families.size, 1);
    await assert.rejects(identity.signInWithLink.execute(token), AccountTokenRefusedError);
  });

  test('when the account was disabled after the link was mailed, then the link is refused and no session starts', async () => {
    const identity = accountEmails();
    await identity.signUp.execute({ email: 'ada@example.com', password });
    await identity.requestLink.execute({ email: 'ada@example.com', purpose: 'sign-in-link' });
    const ada = await identity.users.findByEmail('ada@example.com');
    assert.ok(ada);
    await identity.users.saveDisabled(ada.id, new Date());
    await assert.rejects(identity.signInWithLink.execute(identity.mailer.lastToken('ada@example.com', 'sign-in-link')), AccountTokenRefusedError);
    assert.equal(identity.sessions.families.size, 0);
  });
});

describe('renderAccountEmail', () => {
  const now = new Date(Date.UTC(2026, 0, 1));
  const reset = { kind: 'password-reset', to: 'ada@example.com', token: 'tok-123', expiresAt: new Date(now.getTime() + 30 * 60_000) } as const;

  test('when a link base is set, then the token is in the link\'s fragment; without one, the email names the API route', () => {
    assert.match(renderAccountEmail(reset, { linkBaseUrl: 'https://shop.example.com/account/', now }).text, /https:\/\/shop\.example\.com\/account\/reset-password#token=tok-123\n/);
    const plain = renderAccountEmail(reset, { linkBaseUrl: undefined, now }).text;
    assert.match(plain, /POST \/v1\/auth\/password-reset\/complete/);
    assert.match(plain, /^ {2}tok-123$/m);
    assert.match(plain, /within 30 minutes/);
  });

  test('when the registration notice is written, then it carries no token and tells the owner what to do', () => {
    const notice = renderAccountEmail({ kind: 'registration-notice', to: 'ada@example.com' }, { linkBaseUrl: undefined, now });
    assert.match(notice.text, /sign in with your password, or reset it/);
    assert.doesNotMatch(notice.text, /token/i);
  });
});
