import { sql, type Kysely } from 'kysely';
import type { Database } from '../../../../platform/database/database.ts';
import type { AccountEmailBudget } from '../../application/ports.ts';
import type { AccountEmailKind } from '../../domain/account-email.ts';
import type { IdentityTables } from './identity-tables.ts';

/** When each kind of account email was last sent to each account, in PostgreSQL, so every process sees the same budget. */
export class PgAccountEmailBudget implements AccountEmailBudget {
  readonly #db: Kysely<IdentityTables>;

  constructor(db: Database) {
    this.#db = db.$extendTables<IdentityTables>();
  }

  async take(userId: string, kind: AccountEmailKind, now: Date, since: Date): Promise<boolean> {
    // One statement checks and records: two concurrent requests cannot both pass.
    const row = await this.#db.insertInto('identity.account_email_sends')
      .values({ user_id: userId, kind, sent_at: now })
      .onConflict((conflict) => conflict.columns(['user_id', 'kind']).doUpdateSet({ sent_at: now })
        .where(sql<boolean>`identity.account_email_sends.sent_at <= ${since}`))
      .returning('user_id')
      .executeTakeFirst();
    return row !== undefined;
  }
}
