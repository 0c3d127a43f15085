import type { Kysely, Selectable } from 'kysely';
import type { Database } from '../../../../platform/database/database.ts';
import type { TokenRevocationStore } from '../../application/ports.ts';
import type { RevocationReason, TokenRevocation } from '../../domain/token-revocation.ts';
import type { IdentityTables, TokenRevocationsTable } from './identity-tables.ts';

/** Token revocations in PostgreSQL (`identity.token_revocations`). */
export class PgTokenRevocationStore implements TokenRevocationStore {
  readonly #db: Kysely<IdentityTables>;

  constructor(db: Database) {
    this.#db = db.$extendTables<IdentityTables>();
  }

  async add(revocation: TokenRevocation, reason: RevocationReason, at: Date): Promise<void> {
    await this.#db.insertInto('identity.token_revocations').values({
      kind: revocation.kind,
      subject: revocation.kind === 'session' ? revocation.sessionId : revocation.userId,
      issued_before: revocation.kind === 'user' ? revocation.issuedBefore : null,
      expires_at: revocation.expiresAt,
      reason,
      created_at: at,
    }).execute();
  }

  async listActive(now: Date): Promise<TokenRevocation[]> {
    const rows = await this.#db.selectFrom('identity.token_revocations').selectAll().where('expires_at', '>', now).execute();
    return rows.map(toRevocation);
  }

  async pruneExpiredBefore(before: Date): Promise<number> {
    const deleted = await this.#db.deleteFrom('identity.token_revocations').where('expires_at', '<', before).executeTakeFirst();
    return Number(deleted.numDeletedRows);
  }
}

function toRevocation(row: Selectable<TokenRevocationsTable>): TokenRevocation {
  if (row.kind === 'session') return { kind: 'session', sessionId: row.subject, expiresAt: row.expires_at };
  return { kind: 'user', userId: row.subject, issuedBefore: row.issued_before ?? row.created_at, expiresAt: row.expires_at };
}
