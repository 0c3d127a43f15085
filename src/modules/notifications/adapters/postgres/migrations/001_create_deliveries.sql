-- Order events worth notifying, kept for as long as their deliveries may be (re)sent.
create table events (
  id uuid primary key,
  type text not null,
  order_id text not null,
  occurred_at timestamptz not null,
  -- What the customer email says (the domain's OrderNotice).
  notice jsonb not null,
  -- The event's payload, sent verbatim as a webhook's `data`.
  data jsonb not null,
  recorded_at timestamptz not null default now(),
  -- The same fact announced again under another message id is the same event.
  unique (order_id, type)
);

create table webhook_endpoints (
  id text primary key,
  url text not null,
  events text[] not null check (cardinality(events) > 0),
  -- The HMAC key itself (not a hash of it): signing needs it.
  secret text not null,
  created_at timestamptz not null,
  deleted_at timestamptz
);
create index webhook_endpoints_active on webhook_endpoints (created_at, id) where deleted_at is null;

create table deliveries (
  id text primary key,
  event_id uuid not null references events (id),
  channel text not null check (channel in ('email', 'webhook')),
  -- The email address, or the webhook endpoint's id.
  recipient text not null,
  endpoint_id text references webhook_endpoints (id),
  status text not null check (status in ('pending', 'sent', 'dead', 'cancelled')),
  attempts integer not null check (attempts >= 0),
  -- When pending: when it is due; a claimed delivery's lease pushes it to the lease's end.
  next_attempt_at timestamptz not null,
  -- Set while a worker holds the delivery; the outcome is recorded only with the same token.
  lease_token uuid,
  last_error text,
  created_at timestamptz not null,
  sent_at timestamptz,
  -- One delivery per event, channel and recipient, however often the event arrives.
  unique (event_id, channel, recipient),
  check ((channel = 'webhook' and endpoint_id = recipient) or (channel = 'email' and endpoint_id is null))
);
create index deliveries_due on deliveries (next_attempt_at) where status = 'pending';
-- The admin lists webhook deliveries by status (dead ones above all), oldest first.
create index deliveries_webhooks_by_status on deliveries (status, created_at, id) where channel = 'webhook';
create index deliveries_by_endpoint on deliveries (endpoint_id) where endpoint_id is not null;
