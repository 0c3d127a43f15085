import { sql, type QueryExecutorProvider } from 'kysely';
import type { Database } from '../database/database.ts';
import { currentActor } from './audit-context.ts';

/**
 * One administrative act, as the use case that performs it describes it: `action` is
 * `<module>.<what-happened>` (`catalog.price-changed`), `targetId` what it acted on, `before` and
 * `after` the values it changed where that applies (JSON; never a secret).
 */
export interface AdminAct {
  action: string;
  targetId: string;
  before?: unknown;
  after?: unknown;
}

/** An act as the audit trail keeps it. */
export interface AuditEntry {
  id: string;
  module: string;
  occurredAt: Date;
  actorId: string;
  actorEmail: string | null;
  action: string;
  targetId: string;
  clientAddress: string | null;
  requestId: string | null;
  before: unknown;
  after: unknown;
}

/**
 * Records `act` of `module` in `transaction` — the transaction of the act itself, so the entry
 * commits or rolls back with it — naming the current actor, client address and request id.
 */
export async function recordAdminAct(transaction: QueryExecutorProvider, module: string, act: AdminAct): Promise<void> {
  const actor = currentActor();
  await sql`
    insert into audit.entries (module, actor_id, actor_email, action, target_id, client_address, request_id, before, after)
    values (${module}, ${actor.id}, ${actor.email ?? null}, ${act.action}, ${act.targetId}, ${actor.clientAddress ?? null},
      ${actor.requestId ?? null}, ${jsonOrNull(act.before)}::jsonb, ${jsonOrNull(act.after)}::jsonb)`.execute(transaction);
}

function jsonOrNull(value: unknown): string | null {
  return value === undefined ? null : JSON.stringify(value);
}

/** What an admin asks of the trail: every filter optional, newest first, `limit` at a time after `before`. */
export interface AuditQuery {
  module: string;
  actorId?: string;
  action?: string;
  targetId?: string;
  from?: Date;
  to?: Date;
  after?: { occurredAt: Date; id: string };
  limit: number;
}

/** One row of audit.entries as PostgreSQL answers it (tests read the table the same way). */
export interface EntryRow {
  id: string;
  module: string;
  occurred_at: Date;
  actor_id: string;
  actor_email: string | null;
  action: string;
  target_id: string;
  client_address: string | null;
  request_id: string | null;
  before: unknown;
  after: unknown;
}

/** The entries of `query.module` that match every filter given, newest first (`from` inclusive, `to` exclusive). */
export async function listAuditEntries(db: Database, query: AuditQuery): Promise<AuditEntry[]> {
  const conditions = [sql`module = ${query.module}`];
  if (query.actorId !== undefined) conditions.push(sql`actor_id = ${query.actorId}`);
  if (query.action !== undefined) conditions.push(sql`action = ${query.action}`);
  if (query.targetId !== undefined) conditions.push(sql`target_id = ${query.targetId}`);
  if (query.from !== undefined) conditions.push(sql`occurred_at >= ${query.from}`);
  if (query.to !== undefined) conditions.push(sql`occurred_at < ${query.to}`);
  if (query.after !== undefined) conditions.push(sql`(occurred_at, id) < (${query.after.occurredAt}, ${query.after.id}::bigint)`);
  const result = await sql<EntryRow>`
    select id::text as id, module, occurred_at, actor_id, actor_email, action, target_id, client_address, request_id, before, after
    from audit.entries
    where ${sql.join(conditions, sql` and `)}
    order by occurred_at desc, id desc
    limit ${query.limit}`.execute(db);
  return result.rows.map((row) => ({
    id: row.id, module: row.module, occurredAt: row.occurred_at, actorId: row.actor_id, actorEmail: row.actor_email,
    action: row.action, targetId: row.target_id, clientAddress: row.client_address, requestId: row.request_id,
    before: row.before, after: row.after,
  }));
}
