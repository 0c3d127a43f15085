-- When an order was confirmed and when it was cancelled, copied from its timeline by every write
-- (order-rows.ts), so the operations summary counts them per minute and measures POST→CONFIRMED
-- without reading timelines. Nullable, so adding them does not rewrite the table.
alter table orders add column confirmed_at timestamptz, add column cancelled_at timestamptz;
update orders set
  confirmed_at = (select (entry->>'at')::timestamptz from jsonb_array_elements(timeline) entry where entry->>'step' = 'confirmed' limit 1),
  cancelled_at = (select (entry->>'at')::timestamptz from jsonb_array_elements(timeline) entry where entry->>'step' = 'cancelled' limit 1)
where status in ('CONFIRMED', 'CANCELLING', 'CANCELLED');

-- What the admin's list of all orders searches by, written once when an order is placed (in the
-- statement that inserts the order, pg-order-store.ts) and never updated: none of it changes after
-- placing. Kept off `orders`, whose row every saga step rewrites without a HOT update (its
-- step_deadline is indexed), so that each index here costs an order one entry, not one per step.
create table order_search (
  order_id text primary key,
  created_at timestamptz not null,
  customer_email_lower text not null
);
-- One row per SKU of an order (normalised as its lines hold them): a B-tree walked newest first
-- within one SKU reads a page of a rare SKU as quickly as one of a common SKU.
create table order_search_skus (
  sku text not null,
  created_at timestamptz not null,
  order_id text not null,
  primary key (sku, created_at, order_id)
);
-- Every order placed before these tables, as the order store writes a placed order's rows (safe to
-- run again: orders filled already are skipped).
insert into order_search (order_id, created_at, customer_email_lower)
select id, created_at, lower(customer_email) from orders on conflict do nothing;
insert into order_search_skus (sku, created_at, order_id)
select distinct line->>'sku', created_at, id from orders, jsonb_array_elements(lines) line on conflict do nothing;
-- The whole list newest first by keyset, a placing-time range of it, and the orders placed per minute.
create index order_search_newest on order_search (created_at desc, order_id desc);
-- The same list for one customer email (compared lower-cased).
create index order_search_email_newest on order_search (customer_email_lower, created_at desc, order_id desc);

-- The list for one finished status. Every update of an order writes a new row version into each
-- index of `orders`; this one and the two below hold only finished versions (about one per order,
-- written when it finishes), so they cost the saga's steps nothing. Unfinished statuses are found
-- through orders_deadline, which holds only the backlog.
create index orders_finished_newest on orders (status, created_at desc, id desc) where step_deadline is null;
-- Confirmations and cancellations per minute over the last hour; placed→confirmed durations are
-- read from the index alone (created_at included), not from each order's row. A confirmed order
-- changes again only when it is cancelled.
create index orders_confirmed_at on orders (confirmed_at) include (created_at) where confirmed_at is not null;
create index orders_cancelled_at on orders (cancelled_at) where cancelled_at is not null;
