-- One payment per order: what was asked, and where it stands with the provider.
create table payments (
  order_id text primary key,
  id text not null unique,
  amount bigint not null check (amount >= 0),
  currency char(3) not null,
  token text not null,
  status text not null check (status in ('pending', 'authorized', 'declined', 'captured', 'voided', 'refunded')),
  provider_payment_id text,
  decline_reason text,
  created_at timestamptz not null,
  updated_at timestamptz not null
);

-- What other modules asked of a payment, run by the worker. At most one of each kind per order,
-- which is what makes a repeated command harmless. `id` gives an order's operations their order.
-- A pending operation's `next_attempt_at` is also its lease while claimed (`claim_token` set).
-- Failed operations wait here for an admin.
create table operations (
  id bigint generated always as identity primary key,
  order_id text not null,
  kind text not null check (kind in ('authorize', 'capture', 'void', 'refund')),
  status text not null default 'pending' check (status in ('pending', 'done', 'failed')),
  attempts integer not null default 0,
  next_attempt_at timestamptz not null default now(),
  claim_token uuid,
  outcome text,
  detail text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  finished_at timestamptz,
  unique (order_id, kind)
);
create index operations_due on operations (next_attempt_at, id) where status = 'pending';
create index operations_failed on operations (updated_at) where status = 'failed';

-- Every request made to the provider, whatever its outcome. `operation` is what was asked of the
-- provider, which may differ from the kind of the operation row (a refund before capture voids).
create table provider_calls (
  id bigint generated always as identity primary key,
  operation_id bigint not null references operations (id),
  order_id text not null,
  operation text not null check (operation in ('authorize', 'capture', 'void', 'refund')),
  idempotency_key text not null,
  attempt integer not null,
  outcome text not null,
  detail text,
  duration_ms integer not null,
  called_at timestamptz not null
);
create index provider_calls_order_id on provider_calls (order_id);
create index provider_calls_operation_id on provider_calls (operation_id);

-- Provider webhook events whose signature was verified, once each.
create table webhook_events (
  provider text not null,
  event_id text not null,
  type text not null,
  payload jsonb not null,
  received_at timestamptz not null default now(),
  primary key (provider, event_id)
);
