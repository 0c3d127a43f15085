import { sql, type Kysely } from 'kysely';
import type { Database } from '../../../../platform/database/database.ts';
import type { HeldIdempotencyKey, IdempotencyClaim, IdempotencyKeyAnswer, IdempotencyKeys } from '../../application/ports.ts';
import { readOrder, type OrdersTables } from './order-rows.ts';

/**
 * Idempotency keys in PostgreSQL: claimed in their own short transaction, completed with the order.
 * Every claim stores a new random token, and only that token completes or releases the key.
 */
export class PgIdempotencyKeys implements IdempotencyKeys {
  readonly #db: Kysely<OrdersTables>;
  readonly #ttlHours: number;
  readonly #takeoverAfterSeconds: number;

  /**
   * `takeoverAfterSeconds`: a claim still in progress after this long counts as abandoned (its request
   * crashed between claiming and placing) and a new request may take it over (default 60).
   */
  constructor(db: Database, options: { ttlHours: number; takeoverAfterSeconds?: number }) {
    this.#db = db.$extendTables<OrdersTables>();
    this.#ttlHours = options.ttlHours;
    this.#takeoverAfterSeconds = options.takeoverAfterSeconds ?? 60;
  }

  async claim(customerId: string, key: string, requestHash: string): Promise<IdempotencyClaim> {
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const token = crypto.randomUUID();
      const claimed = await sql<{ claimed: number }>`
        insert into orders.idempotency_keys (customer_id, key, request_hash, state, claim_token, expires_at)
        values (${customerId}, ${key}, ${requestHash}, 'in-progress', ${token}, now() + make_interval(hours => ${this.#ttlHours}))
        on conflict (customer_id, key) do update
          set request_hash = excluded.request_hash, state = 'in-progress', order_snapshot = null,
              claim_token = excluded.claim_token, claimed_at = now(), expires_at = excluded.expires_at
          where idempotency_keys.expires_at <= now()
             or (idempotency_keys.state = 'in-progress' and idempotency_keys.claimed_at < now() - make_interval(secs => ${this.#takeoverAfterSeconds}))
        returning 1 as claimed`.execute(this.#db);
      if (claimed.rows.length > 0) return { kind: 'claimed', claim: { customerId, key, token } };
      const answer = await this.lookUp(customerId, key, requestHash);
      if (answer !== undefined) return answer;
      // released between the two statements: claim again
    }
    return { kind: 'in-progress' };
  }

  async release(claim: HeldIdempotencyKey): Promise<void> {
    await this.#db.deleteFrom('orders.idempotency_keys')
      .where('customer_id', '=', claim.customerId).where('key', '=', claim.key)
      .where('state', '=', 'in-progress').where('claim_token', '=', claim.token).execute();
  }

  async lookUp(customerId: string, key: string, requestHash: string): Promise<IdempotencyKeyAnswer | undefined> {
    const existing = await this.#db.selectFrom('orders.idempotency_keys').select(['request_hash', 'state', 'order_snapshot'])
      .where('customer_id', '=', customerId).where('key', '=', key).where('expires_at', '>', sql<Date>`now()`).executeTakeFirst();
    if (existing === undefined) return undefined;
    if (existing.request_hash !== requestHash) return { kind: 'different-request' };
    if (existing.state === 'in-progress' || existing.order_snapshot === null) return { kind: 'in-progress' };
    return { kind: 'replay', order: readOrder(existing.order_snapshot) };
  }
}
