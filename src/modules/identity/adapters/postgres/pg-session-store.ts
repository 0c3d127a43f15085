import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from '../../../../platform/database/database.ts';
import { recordAdminAct } from '../../../../platform/audit/index.ts';
import type { AdminAct, SessionStore, SessionTransaction } from '../../application/ports.ts';
import type { RefreshToken, RefreshTokenFamily } from '../../domain/refresh-session.ts';
import type { RevocationReason } from '../../domain/token-revocation.ts';
import type { IdentityTables } from './identity-tables.ts';

/** Refresh tokens and families in PostgreSQL. */
export class PgSessionStore implements SessionStore {
  readonly #db: Kysely<IdentityTables>;

  constructor(db: Database) {
    this.#db = db.$extendTables<IdentityTables>();
  }

  transaction<T>(work: (sessions: SessionTransaction) => Promise<T>): Promise<T> {
    return this.#db.transaction().execute((transaction) => work(new PgSessionTransaction(transaction)));
  }

  async pruneExpiredBefore(before: Date): Promise<number> {
    const deleted = await this.#db.deleteFrom('identity.refresh_tokens').where('expires_at', '<', before).executeTakeFirst();
    await this.#db.deleteFrom('identity.refresh_token_families')
      .where((eb) => eb.not(eb.exists(
        eb.selectFrom('identity.refresh_tokens').select(sql.lit(1).as('one')).whereRef('identity.refresh_tokens.family_id', '=', 'identity.refresh_token_families.id'),
      )))
      .where('created_at', '<', before)
      .execute();
    return Number(deleted.numDeletedRows);
  }
}

class PgSessionTransaction implements SessionTransaction {
  readonly #transaction: Transaction<IdentityTables>;

  constructor(transaction: Transaction<IdentityTables>) {
    this.#transaction = transaction;
  }

  async findForUpdate(tokenHash: string): Promise<{ token: RefreshToken; family: RefreshTokenFamily } | undefined> {
    const row = await this.#transaction.selectFrom('identity.refresh_tokens as token')
      .innerJoin('identity.refresh_token_families as family', 'family.id', 'token.family_id')
      .select([
        'token.token_hash', 'token.family_id', 'token.issued_at', 'token.expires_at', 'token.used_at',
        'family.user_id', 'family.created_at as family_created_at', 'family.revoked_at',
      ])
      .where('token.token_hash', '=', tokenHash)
      .forUpdate()
      .executeTakeFirst();
    if (row === undefined) return undefined;
    return {
      token: { tokenHash: row.token_hash, familyId: row.family_id, issuedAt: row.issued_at, expiresAt: row.expires_at, usedAt: row.used_at ?? undefined },
      family: { id: row.family_id, userId: row.user_id, createdAt: row.family_created_at, revokedAt: row.revoked_at ?? undefined },
    };
  }

  async addFamily(family: RefreshTokenFamily): Promise<void> {
    await this.#transaction.insertInto('identity.refresh_token_families').values({
      id: family.id, user_id: family.userId, created_at: family.createdAt, revoked_at: family.revokedAt ?? null, revoked_reason: null,
    }).execute();
  }

  async addToken(token: RefreshToken): Promise<void> {
    await this.#transaction.insertInto('identity.refresh_tokens').values({
      token_hash: token.tokenHash, family_id: token.familyId, issued_at: token.issuedAt, expires_at: token.expiresAt, used_at: token.usedAt ?? null,
    }).execute();
  }

  async markUsed(tokenHash: string, at: Date): Promise<void> {
    await this.#transaction.updateTable('identity.refresh_tokens').set({ used_at: at }).where('token_hash', '=', tokenHash).execute();
  }

  async revokeFamiliesOf(userId: string, at: Date, reason: RevocationReason, act?: (revokedIds: readonly string[]) => AdminAct): Promise<string[]> {
    const rows = await this.#transaction.updateTable('identity.refresh_token_families')
      .set({ revoked_at: at, revoked_reason: reason })
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null)
      .returning('id')
      .execute();
    const ids = rows.map((row) => row.id);
    if (act !== undefined) await recordAdminAct(this.#transaction, 'identity', act(ids));
    return ids;
  }

  async revokeFamily(familyId: string, at: Date, reason: RevocationReason): Promise<void> {
    await this.#transaction.updateTable('identity.refresh_token_families')
      .set({ revoked_at: at, revoked_reason: reason })
      .where('id', '=', familyId)
      .where('revoked_at', 'is', null)
      .execute();
  }
}
