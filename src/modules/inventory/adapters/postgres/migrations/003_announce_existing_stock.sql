-- Announces, once, the stock that existed before `inventory.stock-changed` did, as the stores would
-- have (see stock-announcements.ts): without it the catalog would show every product of an existing
-- database out of stock until its stock next changed. Written to this database's outbox, so the
-- relay publishes it like any other announcement, to whichever transport the process uses.
insert into messaging.outbox (id, topic, type, version, key, occurred_at, payload)
select gen_random_uuid(), 'orderstream.inventory.v1', 'inventory.stock-changed', 1, sku, now(),
  jsonb_build_object('sku', sku, 'available', on_hand - reserved, 'stockVersion', version)
from stock_items
order by sku;
