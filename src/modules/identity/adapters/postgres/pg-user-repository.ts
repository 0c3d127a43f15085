import type { Kysely, Selectable } from 'kysely';
import type { Database } from '../../../../platform/database/database.ts';
import { recordAdminAct } from '../../../../platform/audit/index.ts';
import { appendToOutbox, createEnvelope } from '../../../../platform/messaging/index.ts';
import type { AdminAct, UserRepository } from '../../application/ports.ts';
import { identityEvents, type UserRegisteredV1 } from '../../contract.ts';
import { EmailTakenError } from '../../domain/identity.errors.ts';
import type { Role, User } from '../../domain/user.ts';
import { isUniqueViolation, type IdentityTables, type UsersTable } from './identity-tables.ts';

/** Accounts in PostgreSQL; a new account and its outbox message commit in one transaction. */
export class PgUserRepository implements UserRepository {
  readonly #db: Kysely<IdentityTables>;

  constructor(db: Database) {
    this.#db = db.$extendTables<IdentityTables>();
  }

  async findByEmail(email: string): Promise<User | undefined> {
    const row = await this.#db.selectFrom('identity.users').selectAll().where('email', '=', email).executeTakeFirst();
    return row === undefined ? undefined : toUser(row);
  }

  async findById(id: string): Promise<User | undefined> {
    const row = await this.#db.selectFrom('identity.users').selectAll().where('id', '=', id).executeTakeFirst();
    return row === undefined ? undefined : toUser(row);
  }

  async add(user: User, event: UserRegisteredV1): Promise<void> {
    try {
      await this.#db.transaction().execute(async (transaction) => {
        await transaction.insertInto('identity.users').values({
          id: user.id, email: user.email, password_hash: user.passwordHash, roles: [...user.roles], created_at: user.createdAt,
        }).execute();
        await appendToOutbox(transaction, [createEnvelope({ ...identityEvents.userRegistered, key: user.id, payload: event })]);
      });
    } catch (error) {
      if (isUniqueViolation(error, 'users_email_key')) throw new EmailTakenError(user.email);
      throw error;
    }
  }

  async saveRoles(user: User, act?: AdminAct): Promise<void> {
    await this.#db.transaction().execute(async (transaction) => {
      await transaction.updateTable('identity.users').set({ roles: [...user.roles] }).where('id', '=', user.id).execute();
      if (act !== undefined) await recordAdminAct(transaction, 'identity', act);
    });
  }

  async saveDisabled(userId: string, disabledAt: Date | undefined, act?: AdminAct): Promise<void> {
    await this.#db.transaction().execute(async (transaction) => {
      await transaction.updateTable('identity.users').set({ disabled_at: disabledAt ?? null }).where('id', '=', userId).execute();
      if (act !== undefined) await recordAdminAct(transaction, 'identity', act);
    });
  }

  async savePasswordHash(userId: string, passwordHash: string): Promise<void> {
    await this.#db.updateTable('identity.users').set({ password_hash: passwordHash }).where('id', '=', userId).execute();
  }

  async saveEmailVerified(userId: string, at: Date): Promise<void> {
    await this.#db.updateTable('identity.users').set({ email_verified_at: at }).where('id', '=', userId).where('email_verified_at', 'is', null).execute();
  }
}

function toUser(row: Selectable<UsersTable>): User {
  return {
    id: row.id, email: row.email, passwordHash: row.password_hash, roles: row.roles as Role[], createdAt: row.created_at,
    disabledAt: row.disabled_at ?? undefined,
    emailVerifiedAt: row.email_verified_at ?? undefined,
  };
}
