import { sql, type Kysely } from 'kysely';
import type { Database } from '../../../../platform/database/database.ts';
import type { LoginFailureStore } from '../../application/ports.ts';
import type { FailureWindow, ThrottleSubject } from '../../domain/login-throttle.ts';
import type { IdentityTables } from './identity-tables.ts';

/** Failed sign-ins in PostgreSQL, so every process counts the same failures. */
export class PgLoginFailureStore implements LoginFailureStore {
  readonly #db: Kysely<IdentityTables>;

  constructor(db: Database) {
    this.#db = db.$extendTables<IdentityTables>();
  }

  async countSince(subjects: readonly ThrottleSubject[], since: Date): Promise<FailureWindow[]> {
    return Promise.all(subjects.map(async (subject) => {
      const row = await this.#db.selectFrom('identity.login_failures')
        .select([sql<number>`count(*)::int`.as('count'), sql<Date | null>`min(failed_at)`.as('oldest')])
        .where('subject_kind', '=', subject.kind)
        .where('subject', '=', subject.value)
        .where('failed_at', '>', since)
        .executeTakeFirstOrThrow();
      return { subject, count: row.count, oldestAt: row.oldest ?? undefined };
    }));
  }

  async record(subjects: readonly ThrottleSubject[], at: Date): Promise<void> {
    if (subjects.length === 0) return;
    await this.#db.insertInto('identity.login_failures')
      .values(subjects.map((subject) => ({ subject_kind: subject.kind, subject: subject.value, failed_at: at })))
      .execute();
  }

  async clear(subject: ThrottleSubject): Promise<void> {
    await this.#db.deleteFrom('identity.login_failures').where('subject_kind', '=', subject.kind).where('subject', '=', subject.value).execute();
  }

  async pruneBefore(before: Date): Promise<number> {
    const deleted = await this.#db.deleteFrom('identity.login_failures').where('failed_at', '<=', before).executeTakeFirst();
    return Number(deleted.numDeletedRows);
  }
}
