import type { Kysely, Selectable } from 'kysely';
import { recordAdminAct } from '../../../../platform/audit/index.ts';
import type { Database } from '../../../../platform/database/database.ts';
import type { SigningKeyRepository } from '../../application/ports.ts';
import type { NewSigningKey, PublicJwk, SigningKey } from '../../domain/signing-key.ts';
import type { AesGcmKeyCipher } from '../crypto/aes-gcm-key-cipher.ts';
import { isUniqueViolation, type IdentityTables, type SigningKeysTable } from './identity-tables.ts';

/** Signing keys in PostgreSQL, private halves encrypted with the key-encryption key. */
export class PgSigningKeyRepository implements SigningKeyRepository {
  readonly #db: Kysely<IdentityTables>;
  readonly #cipher: AesGcmKeyCipher;

  constructor(db: Database, cipher: AesGcmKeyCipher) {
    this.#db = db.$extendTables<IdentityTables>();
    this.#cipher = cipher;
  }

  async findCurrent(): Promise<SigningKey | undefined> {
    const row = await this.#db.selectFrom('identity.signing_keys').selectAll().where('retired_at', 'is', null).executeTakeFirst();
    return row === undefined ? undefined : this.#toKey(row);
  }

  async listPublished(now: Date): Promise<PublicJwk[]> {
    const rows = await this.#db.selectFrom('identity.signing_keys')
      .select('public_jwk')
      .where((eb) => eb.or([eb('retired_at', 'is', null), eb('published_until', '>', now)]))
      .orderBy('created_at', 'desc')
      .execute();
    return rows.map((row) => row.public_jwk as PublicJwk);
  }

  async replaceCurrent(
    replacement: NewSigningKey, now: Date, retiredPublishedUntil: Date, shouldReplace: (current: SigningKey | undefined) => boolean,
    act?: { action: 'identity.signing-key-rotated' },
  ): Promise<boolean> {
    try {
      return await this.#db.transaction().execute(async (transaction) => {
        const row = await transaction.selectFrom('identity.signing_keys').selectAll().where('retired_at', 'is', null).forUpdate().executeTakeFirst();
        const current = row === undefined ? undefined : this.#toKey(row);
        if (!shouldReplace(current)) return false;
        if (current !== undefined) {
          await transaction.updateTable('identity.signing_keys')
            .set({ retired_at: now, published_until: retiredPublishedUntil })
            .where('kid', '=', current.kid)
            .execute();
        }
        await transaction.insertInto('identity.signing_keys').values({
          kid: replacement.kid,
          algorithm: 'ES256',
          public_jwk: JSON.stringify(replacement.publicJwk),
          encrypted_private_jwk: this.#cipher.encrypt(JSON.stringify(replacement.privateJwk), replacement.kid),
          created_at: now,
          retired_at: null,
          published_until: null,
        }).execute();
        if (act !== undefined) {
          await recordAdminAct(transaction, 'identity', { ...act, targetId: replacement.kid, before: { currentKid: current?.kid ?? null }, after: { currentKid: replacement.kid } });
        }
        return true;
      });
    } catch (error) {
      // Another process made a key current at the same moment (both saw none, or the same one).
      if (isUniqueViolation(error, 'signing_keys_one_current')) return false;
      throw error;
    }
  }

  async rewrapAll(): Promise<{ rewrapped: number; total: number }> {
    return this.#db.transaction().execute(async (transaction) => {
      // Locked, so a rotation at the same moment waits rather than writing beside a rewrap.
      const rows = await transaction.selectFrom('identity.signing_keys').select(['kid', 'encrypted_private_jwk']).orderBy('created_at').forUpdate().execute();
      let rewrapped = 0;
      for (const row of rows) {
        if (this.#cipher.isUnderCurrentKey(row.encrypted_private_jwk, row.kid)) continue;
        const reencrypted = this.#cipher.encrypt(this.#cipher.decrypt(row.encrypted_private_jwk, row.kid), row.kid);
        await transaction.updateTable('identity.signing_keys').set({ encrypted_private_jwk: reencrypted }).where('kid', '=', row.kid).execute();
        rewrapped += 1;
      }
      // Only `orderstream keys rewrap` calls this: an administrative act, recorded with what it changed (key ids, never key material).
      await recordAdminAct(transaction, 'identity', { action: 'identity.signing-keys-rewrapped', targetId: 'signing-keys', after: { rewrapped, total: rows.length } });
      return { rewrapped, total: rows.length };
    });
  }

  #toKey(row: Selectable<SigningKeysTable>): SigningKey {
    return {
      kid: row.kid,
      publicJwk: row.public_jwk as PublicJwk,
      privateJwk: JSON.parse(this.#cipher.decrypt(row.encrypted_private_jwk, row.kid)) as Record<string, string>,
      createdAt: row.created_at,
      retiredAt: row.retired_at ?? undefined,
      publishedUntil: row.published_until ?? undefined,
    };
  }
}
