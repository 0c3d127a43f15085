import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { validEmail } from './email.ts';
import { InvalidRegistrationError } from './identity.errors.ts';
import { checkPasswordPolicy } from './password-policy.ts';
import { decideRefresh, type RefreshToken, type RefreshTokenFamily } from './refresh-session.ts';
import { isPublished, isRotationDue, publishedUntil } from './signing-key.ts';
import { createUser, grantRole } from './user.ts';

const now = new Date('2026-03-01T12:00:00.000Z');

function refusedField(action: () => unknown): string {
  try {
    action();
  } catch (error) {
    if (error instanceof InvalidRegistrationError) return error.field;
    throw error;
  }
  assert.fail('expected an InvalidRegistrationError');
}

describe('validEmail', () => {
  test('when an email has spaces around it and capitals, then it is trimmed and lower-cased', () => {
    assert.equal(validEmail('  Grace.Hopper@Navy.MIL '), 'grace.hopper@navy.mil');
  });

  test('when it is not an address or too long, then the email field is refused', () => {
    for (const bad of ['no-at-sign', 'two@@example.com', 'a b@example.com', 'ada@localhost', `${'a'.repeat(250)}@example.com`]) {
      assert.equal(refusedField(() => validEmail(bad)), 'email', bad);
    }
  });
});

describe('checkPasswordPolicy', () => {
  test('when the password is 12 characters and not common, then it is accepted', () => {
    assert.equal(checkPasswordPolicy('tulip-river9'), 'tulip-river9');
  });

  test('when it is 11 characters, common in any letter case, one repeated character or over 256 characters, then it is refused', () => {
    for (const bad of ['tulip-river', 'PASSWORD1234', 'Qwerty123456', 'zzzzzzzzzzzzzz', 'x'.repeat(257)]) {
      assert.equal(refusedField(() => checkPasswordPolicy(bad)), 'password', bad);
    }
  });
});

describe('decideRefresh', () => {
  const family: RefreshTokenFamily = { id: 'f', userId: 'u', createdAt: now, revokedAt: undefined };
  const token: RefreshToken = { tokenHash: 'h', familyId: 'f', issuedAt: now, expiresAt: new Date(now.getTime() + 1000), usedAt: undefined };

  test('when the token is fresh and its family live, then it rotates', () => {
    assert.deepEqual(decideRefresh(token, family, now), { outcome: 'rotate' });
  });

  test('when the token was already used, then it is refused as reused and the family is to be revoked', () => {
    assert.deepEqual(decideRefresh({ ...token, usedAt: now }, family, now), { outcome: 'refuse', refusal: 'reused', revokeFamily: true });
  });

  test('when the family is revoked, unknown or the token expired, then it is refused without revoking anything more', () => {
    assert.deepEqual(decideRefresh(token, { ...family, revokedAt: now }, now), { outcome: 'refuse', refusal: 'revoked', revokeFamily: false });
    assert.deepEqual(decideRefresh(undefined, undefined, now), { outcome: 'refuse', refusal: 'unknown', revokeFamily: false });
    assert.deepEqual(decideRefresh(token, family, new Date(now.getTime() + 1000)), { outcome: 'refuse', refusal: 'expired', revokeFamily: false });
  });
});

describe('signing keys', () => {
  test('when there is no key or it is older than the period, then rotation is due', () => {
    const key = { kid: 'k', publicJwk: { kty: 'EC', crv: 'P-256', x: 'x', y: 'y', kid: 'k', alg: 'ES256', use: 'sig' } as const, privateJwk: {}, createdAt: now, retiredAt: undefined, publishedUntil: undefined };
    assert.equal(isRotationDue(undefined, 30, now), true);
    assert.equal(isRotationDue(key, 30, new Date(now.getTime() + 29 * 86_400_000)), false);
    assert.equal(isRotationDue(key, 30, new Date(now.getTime() + 30 * 86_400_000)), true);
  });

  test('when a key is retired, then it stays published for a token lifetime plus the skew, and no longer', () => {
    const until = publishedUntil(now, 900, 30);
    assert.equal(until.getTime() - now.getTime(), 930_000);
    assert.equal(isPublished({ retiredAt: now, publishedUntil: until }, new Date(until.getTime() - 1)), true);
    assert.equal(isPublished({ retiredAt: now, publishedUntil: until }, until), false);
    assert.equal(isPublished({ retiredAt: undefined, publishedUntil: undefined }, until), true);
  });
});

describe('users', () => {
  test('when a user is created, then it is a customer; granting admin twice adds it once', () => {
    const user = createUser({ id: 'u', email: 'a@b.cd', passwordHash: 'h' }, now);
    assert.deepEqual(user.roles, ['customer']);
    const admin = grantRole(user, 'admin');
    assert.deepEqual(admin.roles, ['customer', 'admin']);
    assert.equal(grantRole(admin, 'admin'), admin);
  });
});
