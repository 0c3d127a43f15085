import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../../../platform/database/database.ts';
import type { AccountChanges, AccountTokenStore } from '../../application/ports.ts';
import type { AccountToken, AccountTokenPurpose } from '../../domain/account-token.ts';
import type { IdentityTables } from './identity-tables.ts';

/** Mailed account tokens in PostgreSQL, by digest; redeeming one and its effect on the account commit together. */
export class PgAccountTokenStore implements AccountTokenStore {
  readonly #db: Kysely<IdentityTables>;

  constructor(db: Database) {
    this.#db = db.$extendTables<IdentityTables>();
  }

  async replace(token: AccountToken): Promise<void> {
    await this.#db.transaction().execute(async (transaction) => {
      await transaction.deleteFrom('identity.account_tokens').where('user_id', '=', token.userId).where('purpose', '=', token.purpose).execute();
      await transaction.insertInto('identity.account_tokens').values({
        token_hash: token.tokenHash, purpose: token.purpose, user_id: token.userId, created_at: token.createdAt, expires_at: token.expiresAt, used_at: null,
      }).execute();
    });
  }

  async findLive(purpose: AccountTokenPurpose, tokenHash: string, now: Date): Promise<string | undefined> {
    const row = await this.#db.selectFrom('identity.account_tokens').select('user_id')
      .where('token_hash', '=', tokenHash).where('purpose', '=', purpose).where('used_at', 'is', null).where('expires_at', '>', now)
      .executeTakeFirst();
    return row?.user_id;
  }

  async redeem(
    purpose: AccountTokenPurpose, tokenHash: string, now: Date, effect: (userId: string, account: AccountChanges) => Promise<void>,
  ): Promise<string | undefined> {
    return this.#db.transaction().execute(async (transaction) => {
      // One statement marks the token used only if it is live: of two concurrent redemptions, the second finds it used.
      const row = await transaction.updateTable('identity.account_tokens').set({ used_at: now })
        .where('token_hash', '=', tokenHash).where('purpose', '=', purpose).where('used_at', 'is', null).where('expires_at', '>', now)
        .returning('user_id')
        .executeTakeFirst();
      if (row === undefined) return undefined;
      await effect(row.user_id, new PgAccountChanges(transaction));
      return row.user_id;
    });
  }

  async pruneExpiredBefore(before: Date): Promise<number> {
    const deleted = await this.#db.deleteFrom('identity.account_tokens').where('expires_at', '<', before).executeTakeFirst();
    return Number(deleted.numDeletedRows);
  }
}

class PgAccountChanges implements AccountChanges {
  readonly #transaction: Transaction<IdentityTables>;

  constructor(transaction: Transaction<IdentityTables>) {
    this.#transaction = transaction;
  }

  async markEmailVerified(userId: string, at: Date): Promise<void> {
    await this.#transaction.updateTable('identity.users').set({ email_verified_at: at }).where('id', '=', userId).where('email_verified_at', 'is', null).execute();
  }

  async savePasswordHash(userId: string, passwordHash: string): Promise<void> {
    await this.#transaction.updateTable('identity.users').set({ password_hash: passwordHash }).where('id', '=', userId).execute();
  }
}
