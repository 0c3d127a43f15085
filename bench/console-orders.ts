import { sql, type RawBuilder } from 'kysely';
import type { Database } from '../src/platform/database/database.ts';

/** How the console scenario's orders are spread; `fillConsoleOrders` writes them. */
export interface ConsoleOrderSpread {
  /** Orders written. */
  orders: number;
  /** Customers they belong to (`cus_console_N`, `customer-N@console.bench.orderstream.local`). */
  customers: number;
  /** The catalogue's SKUs; the first ones are ordered most (a line's SKU index is skewed towards 0). */
  skus: readonly string[];
  /** Orders still in their saga, the newest, half a second apart; every other order has finished. */
  unfinished: number;
  /** Share of the finished orders placed in the last hour; the rest are spread over the six days and 23 hours before. */
  lastHourShare: number;
  /** Share of the finished orders that were cancelled (a declined payment); the rest were confirmed. */
  cancelledShare: number;
  now: Date;
}

/** The email of the console scenario's customer number `index` (1-based). */
export function consoleCustomerEmail(index: number): string {
  return `customer-${String(index)}@console.bench.orderstream.local`;
}

const iso = (at: string) => `to_char((${at}) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
const entry = (step: string, at: string, detail?: string) =>
  `jsonb_build_object('step', '${step}', 'at', ${iso(at)}${detail === undefined ? '' : `, 'detail', '${detail}'`})`;
const after = (fraction: number) => `created_at + took * ${String(fraction)}`;

/** Each status's timeline, as the saga writes it (order-saga.ts), at times spread over the order's `took`. */
const timeline = sql.raw(`case status
  when 'CONFIRMED' then jsonb_build_array(${entry('placed', 'created_at')}, ${entry('stock-reserved', after(0.25))}, ${entry('payment-authorized', after(0.5))},
    ${entry('payment-captured', after(0.75))}, ${entry('stock-committed', after(1))}, ${entry('confirmed', after(1))})
  when 'CANCELLED' then jsonb_build_array(${entry('placed', 'created_at')}, ${entry('stock-reserved', after(0.3))},
    ${entry('authorize-payment-failed', after(0.6), 'card_declined')}, ${entry('cancelled', after(1))})
  when 'PENDING' then jsonb_build_array(${entry('placed', 'created_at')})
  when 'RESERVED' then jsonb_build_array(${entry('placed', 'created_at')}, ${entry('stock-reserved', after(0.3))})
  when 'AUTHORIZED' then jsonb_build_array(${entry('placed', 'created_at')}, ${entry('stock-reserved', after(0.3))}, ${entry('payment-authorized', after(0.6))})
  else jsonb_build_array(${entry('placed', 'created_at')}, ${entry('stock-reserved', after(0.3))}, ${entry('authorize-payment-failed', after(0.6), 'card_declined')})
end`);

/**
 * Writes `spread.orders` orders straight into the orders schema with their search rows, in one
 * statement (the same CTE shape the order store places an order with), then vacuums and analyses
 * the tables, as autovacuum would have done to a week of orders. A finished order looks as the
 * saga leaves it (timeline, steps, confirmed_at or cancelled_at); an unfinished one has a deadline
 * a day ahead, so the timeout sweeper leaves it alone while the benchmark runs. Lines carry 1 to 3 distinct SKUs with the
 * catalogue's prices (`500 + (index × 137) mod 9500` cents, as the benchmark's setup prices them).
 */
export async function fillConsoleOrders(db: Database, spread: ConsoleOrderSpread): Promise<void> {
  const { orders, customers, skus, unfinished, lastHourShare, cancelledShare, now } = spread;
  const price = (index: RawBuilder<unknown>) => sql`(500 + ((${index}) * 137) % 9500)`;
  await sql`
    with spec as (
      select g, 'ord_console_' || lpad(g::text, 6, '0') as id, 1 + (g * 7919) % ${customers}::int as customer,
        case when g <= ${unfinished}::int then ${now}::timestamptz - g * interval '500 milliseconds'
             when random() < ${lastHourShare}::float8 then ${now}::timestamptz - random() * interval '1 hour'
             else ${now}::timestamptz - interval '1 hour' - random() * interval '167 hours' end as created_at,
        case when g <= ${unfinished}::int then (array['PENDING', 'RESERVED', 'AUTHORIZED', 'CANCELLING'])[1 + g % 4]
             when random() < ${cancelledShare}::float8 then 'CANCELLED' else 'CONFIRMED' end as status,
        (40 + random() * 400) * interval '1 millisecond' as took, 1 + floor(random() * 3)::int as line_count
      from generate_series(1, ${orders}::int) g
    ), lined as (
      select spec.*, picked.lines, picked.total from spec cross join lateral (
        select jsonb_agg(jsonb_build_object('sku', (${skus}::text[])[i + 1], 'name', 'Bench product ' || (i + 1), 'quantity', 1,
                 'unitPrice', jsonb_build_object('amount', ${price(sql`i`)}, 'currency', 'EUR'),
                 'lineTotal', jsonb_build_object('amount', ${price(sql`i`)}, 'currency', 'EUR')) order by i) as lines,
               sum(${price(sql`i`)})::bigint as total
        from (select distinct floor(power(random(), 2) * ${skus.length}::int)::int as i from generate_series(1, spec.line_count)) chosen
      ) picked
    ), placed as (
      insert into orders.orders (id, customer_id, customer_email, status, lines, total_amount, currency, payment_token, started_steps, current_step,
        step_deadline, pending_compensations, cancellation_reason, refunded_amount, timeline, created_at, updated_at, version, confirmed_at, cancelled_at)
      select id, 'cus_console_' || customer, 'customer-' || customer || '@console.bench.orderstream.local', status, lines, total, 'EUR', 'tok_visa',
        case status when 'PENDING' then '{reserve-stock}'::text[] when 'RESERVED' then '{reserve-stock,authorize-payment}'
          when 'AUTHORIZED' then '{reserve-stock,authorize-payment,capture-payment}' when 'CONFIRMED' then '{reserve-stock,authorize-payment,capture-payment,commit-stock}' else '{reserve-stock,authorize-payment}' end,
        case status when 'PENDING' then 'reserve-stock' when 'RESERVED' then 'authorize-payment' when 'AUTHORIZED' then 'capture-payment' end,
        case when g <= ${unfinished}::int then ${now}::timestamptz + interval '1 day' end,
        case status when 'CANCELLING' then '{release-stock}'::text[] else '{}' end,
        case when status in ('CANCELLED', 'CANCELLING') then 'card_declined' end, null, ${timeline},
        created_at, created_at + took, jsonb_array_length(${timeline}),
        case status when 'CONFIRMED' then created_at + took end, case status when 'CANCELLED' then created_at + took end
      from lined
      returning id, created_at, customer_email, lines
    ), searched as (
      insert into orders.order_search (order_id, created_at, customer_email_lower) select id, created_at, lower(customer_email) from placed
    )
    insert into orders.order_search_skus (sku, created_at, order_id)
    select distinct line->>'sku', placed.created_at, placed.id from placed, jsonb_array_elements(placed.lines) line`.execute(db);
  await sql`vacuum analyze orders.orders, orders.order_search, orders.order_search_skus`.execute(db);
}
