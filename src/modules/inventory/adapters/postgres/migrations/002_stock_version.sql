-- Counts the changes of each stock row, so readers of `inventory.stock-changed` (announced by SKU,
-- and so possibly late or twice) can tell an older announcement from a newer one.
alter table stock_items add column version bigint not null default 1;
alter table stock_items add constraint stock_items_version_positive check (version >= 1);
