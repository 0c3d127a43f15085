-- Stock per SKU. available = on_hand - reserved; the checks make overselling impossible even for a
-- buggy writer: a statement that would break them fails and changes nothing.
create table stock_items (
  sku text primary key,
  on_hand bigint not null,
  reserved bigint not null default 0,
  updated_at timestamptz not null default now(),
  constraint stock_items_sku_format check (sku ~ '^[A-Z0-9][A-Z0-9._-]{0,63}$'),
  constraint stock_items_on_hand_not_negative check (on_hand >= 0),
  constraint stock_items_reserved_not_negative check (reserved >= 0),
  constraint stock_items_reserved_within_on_hand check (reserved <= on_hand)
);

-- One reservation per order, whatever became of it, so a repeated command finds its outcome.
create table reservations (
  order_id text primary key,
  status text not null,
  expires_at timestamptz not null,
  failure_reason text,
  failed_skus jsonb,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint reservations_status_known check (status in ('active', 'failed', 'released', 'expired', 'committed', 'restocked')),
  constraint reservations_failure_reason_known check (failure_reason in ('insufficient-stock', 'unknown-sku')),
  constraint reservations_failure_when_failed check ((status = 'failed') = (failure_reason is not null))
);

-- The expiry sweeper looks only at active reservations, oldest expiry first.
create index reservations_active_by_expiry on reservations (expires_at) where status = 'active';

-- No foreign key to stock_items: a failed reservation keeps the unknown SKUs it asked for.
create table reservation_lines (
  order_id text not null references reservations (order_id),
  sku text not null,
  quantity bigint not null,
  primary key (order_id, sku),
  constraint reservation_lines_quantity_positive check (quantity > 0)
);
