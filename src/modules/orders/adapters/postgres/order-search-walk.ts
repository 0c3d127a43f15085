import { sql, type RawBuilder } from 'kysely';
import type { OrderFilter } from '../../application/ports.ts';

/**
 * How the admin's order searches read (migration 004): the index walked newest first (the SKU's
 * entries of order_search_skus, else order_search, by email or all), what it is joined from, and the
 * filter's conditions, on the walked index's own columns where they can be, so the planner reads it
 * in order; each entry is joined to its order by primary key as `o`.
 */
export function searchWalk(filter: OrderFilter, placedBefore?: Date): { walked: RawBuilder<unknown>; source: RawBuilder<unknown>; conditions: RawBuilder<unknown>[] } {
  const { status, email, from, to, sku, customerId } = filter;
  const walked = sku === undefined ? sql.raw('s') : sql.raw('k');
  const conditions: RawBuilder<unknown>[] = placedBefore === undefined ? [] : [sql`${walked}.created_at < ${placedBefore}`];
  if (sku !== undefined) conditions.push(sql`k.sku = ${sku}`);
  if (email !== undefined) conditions.push(sql`s.customer_email_lower = lower(${email})`);
  if (status !== undefined) conditions.push(sql`o.status = ${status}`);
  if (customerId !== undefined) conditions.push(sql`o.customer_id = ${customerId}`);
  if (from !== undefined) conditions.push(sql`${walked}.created_at >= ${from}`);
  if (to !== undefined) conditions.push(sql`${walked}.created_at < ${to}`);
  const source = sku === undefined
    ? sql`orders.order_search s`
    : sql`orders.order_search_skus k${email === undefined ? sql`` : sql` join orders.order_search s on s.order_id = k.order_id`}`;
  return { walked, source, conditions };
}
