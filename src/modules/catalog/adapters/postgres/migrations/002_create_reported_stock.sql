-- What inventory last reported of each SKU's available stock (`inventory.stock-changed`), read with
-- the products. Kept by SKU, not by product: stock may be set before its product exists. No foreign
-- key to inventory: in the services shape its tables are in another database.
create table reported_stock (
  sku text primary key,
  available bigint not null check (available >= 0),
  stock_version bigint not null check (stock_version >= 1),
  reported_at timestamptz not null default now()
);
