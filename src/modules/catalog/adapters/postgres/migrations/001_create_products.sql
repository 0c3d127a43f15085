create table products (
  id text primary key,
  sku text not null unique,
  name text not null,
  description text not null default '',
  price_amount bigint not null check (price_amount >= 0),
  price_currency char(3) not null,
  created_at timestamptz not null,
  updated_at timestamptz not null,
  version integer not null check (version >= 1)
);
-- Keyset pagination walks the catalogue in (created_at, id) order.
create index products_created_at_id on products (created_at, id);
