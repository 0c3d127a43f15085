import { sql } from 'kysely';
import type { Database } from '../../../src/platform/database/database.ts';

/**
 * Writes `count` finished orders straight into the orders tables with their search rows, as the
 * orders module keeps them, placed `stepMicroseconds` apart from `start`: a step under 1,000 puts
 * several orders in one millisecond, as the database (not JavaScript) can. Order `g` (1-based) has id
 * `<prefix><g, 6 digits>`, customer `cus_<g mod 7>`, one line of SKU `EXP-<g mod 3>` with quantity
 * `1 + g mod 4` at 2.50 EUR, and is CANCELLED (card_declined) when `g` is a multiple of 5, else CONFIRMED.
 */
export async function insertExportableOrders(db: Database, input: { count: number; prefix: string; start: Date; stepMicroseconds: number }): Promise<void> {
  await sql`
    with spec as (
      select g, ${input.prefix} || lpad(g::text, 6, '0') as id, 'cus_' || (g % 7) as customer,
        ${input.start}::timestamptz + g * ${input.stepMicroseconds}::int * interval '1 microsecond' as created_at,
        case when g % 5 = 0 then 'CANCELLED' else 'CONFIRMED' end as status, 1 + g % 4 as quantity, 'EXP-' || (g % 3) as sku
      from generate_series(1, ${input.count}::int) g
    ), placed as (
      insert into orders.orders (id, customer_id, customer_email, status, lines, total_amount, currency, payment_token, started_steps, current_step,
        step_deadline, pending_compensations, cancellation_reason, refunded_amount, timeline, created_at, updated_at, version)
      select id, customer, customer || '@example.com', status,
        jsonb_build_array(jsonb_build_object('sku', sku, 'name', 'Exported ' || sku, 'quantity', quantity,
          'unitPrice', jsonb_build_object('amount', 250, 'currency', 'EUR'), 'lineTotal', jsonb_build_object('amount', 250 * quantity, 'currency', 'EUR'))),
        250 * quantity, 'EUR', 'tok_visa', '{}'::text[], null, null, '{}'::text[],
        case when status = 'CANCELLED' then 'card_declined' end, null, '[]'::jsonb, created_at, created_at + interval '1 second', 1
      from spec
      returning id, created_at, customer_email, lines
    ), searched as (
      insert into orders.order_search (order_id, created_at, customer_email_lower) select id, created_at, lower(customer_email) from placed
    )
    insert into orders.order_search_skus (sku, created_at, order_id)
    select distinct line->>'sku', placed.created_at, placed.id from placed, jsonb_array_elements(placed.lines) line`.execute(db);
}
