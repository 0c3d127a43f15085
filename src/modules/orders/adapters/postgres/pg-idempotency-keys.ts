import { sql, type Kysely } from 'kysely';
import type { Database } from '../../../../platform/database/database.ts';
import type { IdempotencyClaim, IdempotencyKeys } from '../../application/ports.ts';
import { readOrder, type OrdersTables } from './order-rows.ts';

// A claim whose request died without finishing (a crash between claiming and placing) is taken over after this.
const abandonedAfterSeconds = 60;

/** Idempotency keys in PostgreSQL: claimed in their own short transaction, completed with the order. */
export class PgIdempotencyKeys implements IdempotencyKeys {
  readonly #db: Kysely<OrdersTables>;
  readonly #ttlHours: number;

  constructor(db: Database, options: { ttlHours: number }) {
    this.#db = db.$extendTables<OrdersTables>();
    this.#ttlHours = options.ttlHours;
  }

  async claim(customerId: string, key: string, requestHash: string): Promise<IdempotencyClaim> {
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const claimed = await sql<{ claimed: number }>`
        insert into orders.idempotency_keys (customer_id, key, request_hash, state, expires_at)
        values (${customerId}, ${key}, ${requestHash}, 'in-progress', now() + make_interval(hours => ${this.#ttlHours}))
        on conflict (customer_id, key) do update
          set request_hash = excluded.request_hash, state = 'in-progress', order_snapshot = null,
              claimed_at = now(), expires_at = excluded.expires_at
          where idempotency_keys.expires_at <= now()
             or (idempotency_keys.state = 'in-progress' and idempotency_keys.claimed_at < now() - make_interval(secs => ${abandonedAfterSeconds}))
        returning 1 as claimed`.execute(this.#db);
      if (claimed.rows.length > 0) return { kind: 'claimed' };
      const existing = await this.#db.selectFrom('orders.idempotency_keys').select(['request_hash', 'state', 'order_snapshot'])
        .where('customer_id', '=', customerId).where('key', '=', key).executeTakeFirst();
      if (existing === undefined) continue; // released between the two statements: claim again
      if (existing.request_hash !== requestHash) return { kind: 'different-request' };
      if (existing.state === 'in-progress' || existing.order_snapshot === null) return { kind: 'in-progress' };
      return { kind: 'replay', order: readOrder(existing.order_snapshot) };
    }
    return { kind: 'in-progress' };
  }

  async release(customerId: string, key: string): Promise<void> {
    await this.#db.deleteFrom('orders.idempotency_keys')
      .where('customer_id', '=', customerId).where('key', '=', key).where('state', '=', 'in-progress').execute();
  }
}
