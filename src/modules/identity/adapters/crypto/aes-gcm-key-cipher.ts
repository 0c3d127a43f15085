import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const formatVersion = 'v1';

/**
 * Encrypts signing keys' private halves at rest with AES-256-GCM under the key-encryption key from
 * configuration. Each value gets a fresh 96-bit nonce, and the key id is bound as associated data,
 * so a ciphertext moved to another key's row fails to decrypt. Stored as `v1.<nonce>.<tag>.<ciphertext>`.
 *
 * While the key-encryption key is rotated, the previous one (IDENTITY_KEY_ENCRYPTION_KEY_PREVIOUS)
 * still decrypts what was stored under it; everything new is encrypted under the current one, and
 * `orderstream keys rewrap` re-encrypts the rest so the previous key can be dropped.
 */
export class AesGcmKeyCipher {
  readonly #key: Buffer;
  readonly #previousKey: Buffer | undefined;

  /** `keyEncryptionKey` (and `previousKeyEncryptionKey`): 32 random bytes, base64 or base64url encoded (e.g. `openssl rand -base64 32`). */
  constructor(keyEncryptionKey: string, previousKeyEncryptionKey?: string) {
    this.#key = parseKey(keyEncryptionKey);
    this.#previousKey = previousKeyEncryptionKey === undefined ? undefined : parseKey(previousKeyEncryptionKey);
  }

  encrypt(plaintext: string, keyId: string): string {
    const nonce = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#key, nonce);
    cipher.setAAD(Buffer.from(keyId, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [formatVersion, nonce.toString('base64url'), cipher.getAuthTag().toString('base64url'), ciphertext.toString('base64url')].join('.');
  }

  /** Throws when the value was not encrypted for this key id under the current or the previous key, or was altered. */
  decrypt(stored: string, keyId: string): string {
    const plaintext = decryptWith(this.#key, stored, keyId) ?? (this.#previousKey === undefined ? undefined : decryptWith(this.#previousKey, stored, keyId));
    if (plaintext === undefined) {
      throw new Error(`signing key ${keyId} cannot be decrypted: the key-encryption key is not the one it was stored with, or the row was altered`);
    }
    return plaintext;
  }

  /** Whether `stored` is encrypted under the current key (a rewrap leaves it as it is). */
  isUnderCurrentKey(stored: string, keyId: string): boolean {
    return decryptWith(this.#key, stored, keyId) !== undefined;
  }
}

function parseKey(encoded: string): Buffer {
  const key = Buffer.from(encoded.replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, ''), 'base64url');
  if (key.length !== 32 || !/^[A-Za-z0-9+/_-]+=*$/.test(encoded)) {
    throw new Error('The identity key-encryption key must be 32 random bytes in base64 (e.g. `openssl rand -base64 32`)');
  }
  return key;
}

/** The plaintext, or undefined when `key` did not encrypt `stored` for `keyId` (or it was altered). */
function decryptWith(key: Buffer, stored: string, keyId: string): string | undefined {
  const [version, nonce, tag, ciphertext] = stored.split('.');
  if (version !== formatVersion || nonce === undefined || tag === undefined || ciphertext === undefined) {
    throw new Error(`signing key ${keyId}: unknown encrypted format`);
  }
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(nonce, 'base64url'));
  decipher.setAAD(Buffer.from(keyId, 'utf8'));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  try {
    return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
  } catch {
    return undefined;
  }
}
