import { sql, type Kysely } from 'kysely';
import type { Database } from '../../../../platform/database/database.ts';
import { gatedOutboxAppend } from '../../../../platform/messaging/index.ts';
import type { IdempotencyKeyAnswer, IdempotencyKeyRequest, IdempotencyKeys } from '../../application/ports.ts';
import type { SagaAction } from '../../domain/order-saga.ts';
import type { Order } from '../../domain/order.ts';
import { messagesFor, orderPlacedMessage } from '../messaging/saga-messages.ts';
import { orderInsert } from './pg-order-store.ts';
import { readOrder, storeOrder, type OrdersTables } from './order-rows.ts';

/**
 * Idempotency keys in PostgreSQL, taken by the statement that places the order. Rows left
 * `in-progress` with a claim token come from versions that claimed a key in a transaction of its
 * own before placing (until 2026-12-06); such a claim still holds the key until the takeover time.
 */
export class PgIdempotencyKeys implements IdempotencyKeys {
  readonly #db: Kysely<OrdersTables>;
  readonly #database: Database;
  readonly #ttlHours: number;
  readonly #takeoverAfterSeconds: number;

  /**
   * `takeoverAfterSeconds`: a claim still in progress after this long counts as abandoned (its request
   * crashed between claiming and placing) and a new request takes it over (default 60).
   */
  constructor(db: Database, options: { ttlHours: number; takeoverAfterSeconds?: number }) {
    this.#db = db.$extendTables<OrdersTables>();
    this.#database = db;
    this.#ttlHours = options.ttlHours;
    this.#takeoverAfterSeconds = options.takeoverAfterSeconds ?? 60;
  }

  async placeUnderKey(order: Order, request: IdempotencyKeyRequest, actions: readonly SagaAction[]): Promise<boolean> {
    // One statement, which commits by itself: the key taken (new, expired, or an abandoned claim),
    // then the order, its search rows and its messages, each only if the key was. A request with the
    // same key in flight makes this one wait for its outcome and then find the key done with.
    return this.#database.connection().execute(async (connection) => {
      const outbox = gatedOutboxAppend([orderPlacedMessage(order), ...messagesFor(order, actions)], 'claimed');
      const result = await sql<{ placed: number }>`
        with claimed as (
          insert into orders.idempotency_keys (customer_id, key, request_hash, state, order_snapshot, claim_token, expires_at)
          values (${request.customerId}, ${request.key}, ${request.requestHash}, 'completed', ${JSON.stringify(storeOrder(order))}::jsonb, null,
                  now() + make_interval(hours => ${this.#ttlHours}))
          on conflict (customer_id, key) do update
            set request_hash = excluded.request_hash, state = 'completed', order_snapshot = excluded.order_snapshot,
                claim_token = null, claimed_at = now(), expires_at = excluded.expires_at
            where idempotency_keys.expires_at <= now()
               or (idempotency_keys.state = 'in-progress' and idempotency_keys.claimed_at < now() - make_interval(secs => ${this.#takeoverAfterSeconds}))
          returning 1
        ),
        ${sql.join([...orderInsert(order, 'claimed'), ...outbox.ctes])}
        select (select count(*) from placed)::int as placed, ${outbox.wake} as woken`.execute(connection);
      return result.rows[0]?.placed === 1;
    });
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
