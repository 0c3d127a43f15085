import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { AesGcmKeyCipher } from './aes-gcm-key-cipher.ts';
import { Argon2PasswordHasher } from './argon2-password-hasher.ts';
import { NodeSecretTokens } from './node-secret-tokens.ts';

describe('AesGcmKeyCipher', () => {
  const key = randomBytes(32).toString('base64');

  test('when a value is encrypted, then it decrypts under the same key and key id, and two encryptions differ', () => {
    const cipher = new AesGcmKeyCipher(key);
    const first = cipher.encrypt('{"d":"secret"}', 'kid-1');
    assert.notEqual(first, cipher.encrypt('{"d":"secret"}', 'kid-1'));
    assert.ok(!first.includes('secret'));
    assert.equal(cipher.decrypt(first, 'kid-1'), '{"d":"secret"}');
  });

  test('when the key, the key id or the ciphertext differ, then decryption fails', () => {
    const stored = new AesGcmKeyCipher(key).encrypt('{"d":"secret"}', 'kid-1');
    assert.throws(() => new AesGcmKeyCipher(randomBytes(32).toString('base64')).decrypt(stored, 'kid-1'), /cannot be decrypted/);
    assert.throws(() => new AesGcmKeyCipher(key).decrypt(stored, 'kid-2'), /cannot be decrypted/);
    const parts = stored.split('.');
    const tampered = [...parts.slice(0, 3), Buffer.from('{"d":"other!"}').toString('base64url')].join('.');
    assert.throws(() => new AesGcmKeyCipher(key).decrypt(tampered, 'kid-1'), /cannot be decrypted/);
  });

  test('when the key-encryption key is rotated, then values under the previous key still decrypt, new ones are under the current key, and only the current key counts as rewrapped', () => {
    const newKey = randomBytes(32).toString('base64');
    const underOld = new AesGcmKeyCipher(key).encrypt('{"d":"old"}', 'kid-1');
    const rotating = new AesGcmKeyCipher(newKey, key);
    assert.equal(rotating.decrypt(underOld, 'kid-1'), '{"d":"old"}');
    assert.equal(rotating.isUnderCurrentKey(underOld, 'kid-1'), false);
    const underNew = rotating.encrypt('{"d":"new"}', 'kid-2');
    assert.equal(rotating.isUnderCurrentKey(underNew, 'kid-2'), true);
    assert.equal(new AesGcmKeyCipher(newKey).decrypt(underNew, 'kid-2'), '{"d":"new"}');
    assert.throws(() => new AesGcmKeyCipher(newKey).decrypt(underOld, 'kid-1'), /cannot be decrypted/, 'the previous key is needed until a rewrap');
    assert.throws(() => new AesGcmKeyCipher(newKey, randomBytes(32).toString('base64')).decrypt(underOld, 'kid-1'), /cannot be decrypted/);
  });

  test('when the key-encryption key is not 32 bytes of base64, then the cipher refuses to start', () => {
    assert.throws(() => new AesGcmKeyCipher(randomBytes(16).toString('base64')), /32 random bytes/);
    assert.throws(() => new AesGcmKeyCipher('not base64 at all!'), /32 random bytes/);
  });
});

describe('Argon2PasswordHasher', () => {
  test('when a password is hashed, then it is argon2id with the documented parameters and only that password verifies', async () => {
    const hasher = new Argon2PasswordHasher();
    const hash = await hasher.hash('a sturdy passphrase');
    assert.match(hash, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    assert.equal(await hasher.verify(hash, 'a sturdy passphrase'), true);
    assert.equal(await hasher.verify(hash, 'a sturdy passphrasE'), false);
    assert.equal(await hasher.verify('not-a-hash', 'a sturdy passphrase'), false);
  });
});

describe('NodeSecretTokens', () => {
  test('when a secret is generated, then it is 256 bits, its digest is not the secret, and only it matches the digest', () => {
    const secrets = new NodeSecretTokens();
    const secret = secrets.generate();
    assert.equal(Buffer.from(secret, 'base64url').length, 32);
    const digest = secrets.digest(secret);
    assert.notEqual(digest, secret);
    assert.equal(secrets.matches(secret, digest), true);
    assert.equal(secrets.matches(secrets.generate(), digest), false);
  });
});
