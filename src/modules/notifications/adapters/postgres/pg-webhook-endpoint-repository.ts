import { sql, type Kysely, type Selectable } from 'kysely';
import { recordAdminAct } from '../../../../platform/audit/index.ts';
import type { AdminAct, Page, PageCursor, WebhookEndpointRepository } from '../../application/ports.ts';
import type { NotifiedEventType } from '../../domain/notification-event.ts';
import type { WebhookEndpoint } from '../../domain/webhook-endpoint.ts';
import { atomically, type NotificationsTables, type WebhookEndpointsTable } from './notifications-tables.ts';

/** Webhook endpoints in PostgreSQL; a deleted endpoint keeps its row (its deliveries refer to it) but is gone for every query. */
export class PgWebhookEndpointRepository implements WebhookEndpointRepository {
  readonly #db: Kysely<NotificationsTables>;
  readonly #givenTransaction: boolean;

  constructor(db: Kysely<object>) {
    this.#db = db.$extendTables<NotificationsTables>();
    this.#givenTransaction = db.isTransaction;
  }

  async add(endpoint: WebhookEndpoint, act?: AdminAct): Promise<void> {
    await atomically(this.#db, this.#givenTransaction, async (executor) => {
      await executor.insertInto('notifications.webhook_endpoints')
        .values({ id: endpoint.id, url: endpoint.url, events: [...endpoint.events], secret: endpoint.secret, created_at: endpoint.createdAt, deleted_at: null })
        .execute();
      if (act !== undefined) await recordAdminAct(executor, 'notifications', act);
    });
  }

  async list(query: { after?: PageCursor; limit: number }): Promise<Page<WebhookEndpoint>> {
    let select = this.#db.selectFrom('notifications.webhook_endpoints').selectAll().where('deleted_at', 'is', null);
    const after = query.after;
    if (after !== undefined) {
      select = select.where((eb) => eb(eb.refTuple('created_at', 'id'), '>', eb.tuple(after.createdAt, after.id)));
    }
    const rows = await select.orderBy('created_at').orderBy('id').limit(query.limit + 1).execute();
    const items = rows.slice(0, query.limit).map(toEndpoint);
    const last = items.at(-1);
    return { items, next: rows.length > query.limit && last !== undefined ? { createdAt: last.createdAt, id: last.id } : null };
  }

  async listSubscribedTo(type: NotifiedEventType): Promise<WebhookEndpoint[]> {
    const rows = await this.#db.selectFrom('notifications.webhook_endpoints').selectAll()
      .where('deleted_at', 'is', null)
      .where(sql<boolean>`${type} = any(events)`)
      .orderBy('created_at').orderBy('id')
      .execute();
    return rows.map(toEndpoint);
  }

  async delete(id: string, now: Date, act?: AdminAct): Promise<boolean> {
    return atomically(this.#db, this.#givenTransaction, async (executor) => {
      const deleted = await executor.updateTable('notifications.webhook_endpoints')
        .set({ deleted_at: now })
        .where('id', '=', id)
        .where('deleted_at', 'is', null)
        .returning(['url', 'events'])
        .executeTakeFirst();
      if (deleted === undefined) return false;
      if (act !== undefined) await recordAdminAct(executor, 'notifications', { ...act, before: { url: deleted.url, events: deleted.events } });
      // Nobody is left to receive them; an attempt under way finds its delivery cancelled and records nothing.
      await executor.updateTable('notifications.deliveries')
        .set({ status: 'cancelled', lease_token: null })
        .where('endpoint_id', '=', id)
        .where('status', 'in', ['pending', 'dead'])
        .execute();
      return true;
    });
  }

  async rollSecret(id: string, roll: (endpoint: WebhookEndpoint) => WebhookEndpoint, act?: AdminAct): Promise<WebhookEndpoint | undefined> {
    return atomically(this.#db, this.#givenTransaction, async (executor) => {
      const row = await executor.selectFrom('notifications.webhook_endpoints').selectAll()
        .where('id', '=', id).where('deleted_at', 'is', null).forUpdate().executeTakeFirst();
      if (row === undefined) return undefined;
      const rolled = roll(toEndpoint(row));
      await executor.updateTable('notifications.webhook_endpoints')
        .set({ secret: rolled.secret, previous_secret: rolled.previousSecret?.secret ?? null, previous_secret_expires_at: rolled.previousSecret?.expiresAt ?? null })
        .where('id', '=', id)
        .execute();
      if (act !== undefined) await recordAdminAct(executor, 'notifications', act);
      return rolled;
    });
  }
}

export function toEndpoint(row: Selectable<WebhookEndpointsTable>): WebhookEndpoint {
  const endpoint = { id: row.id, url: row.url, events: row.events as NotifiedEventType[], secret: row.secret, createdAt: row.created_at };
  return row.previous_secret === null || row.previous_secret_expires_at === null
    ? endpoint
    : { ...endpoint, previousSecret: { secret: row.previous_secret, expiresAt: row.previous_secret_expires_at } };
}
