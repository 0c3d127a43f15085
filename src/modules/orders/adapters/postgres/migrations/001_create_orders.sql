create table orders (
  id text primary key,
  customer_id text not null,
  customer_email text not null,
  status text not null check (status in ('PENDING', 'RESERVED', 'AUTHORIZED', 'CONFIRMED', 'CANCELLING', 'CANCELLED')),
  lines jsonb not null,
  total_amount bigint not null check (total_amount >= 0),
  currency char(3) not null,
  payment_token text not null,
  started_steps text[] not null,
  current_step text,
  step_deadline timestamptz,
  pending_compensations text[] not null default '{}',
  cancellation_reason text,
  refunded_amount bigint,
  timeline jsonb not null,
  created_at timestamptz not null,
  updated_at timestamptz not null,
  version integer not null
);
-- "My orders", newest first, by keyset.
create index orders_customer_newest on orders (customer_id, created_at desc, id desc);
-- The timeout sweeper looks only at orders with a step in flight.
create index orders_step_deadline on orders (step_deadline) where current_step is not null;

-- Idempotency-Key of POST /v1/orders, per customer; the order as placed is kept to replay it.
create table idempotency_keys (
  customer_id text not null,
  key text not null,
  request_hash text not null,
  state text not null check (state in ('in-progress', 'completed')),
  order_snapshot jsonb,
  claimed_at timestamptz not null default now(),
  expires_at timestamptz not null,
  primary key (customer_id, key)
);
create index idempotency_keys_expiry on idempotency_keys (expires_at);
