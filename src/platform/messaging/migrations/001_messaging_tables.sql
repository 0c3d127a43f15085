-- Outbox: messages written in the same transaction as the change that caused them.
create table outbox (
  position bigserial primary key,
  id uuid not null unique,
  topic text not null,
  type text not null,
  version integer not null,
  key text not null,
  occurred_at timestamptz not null,
  traceparent text,
  request_id text,
  payload jsonb not null,
  sent_at timestamptz
);
create index outbox_unsent on outbox (position) where sent_at is null;

-- Inbox: one row per (consumer, message) whose effect committed; a redelivery finds it and does nothing.
create table inbox (
  consumer text not null,
  message_id uuid not null,
  processed_at timestamptz not null default now(),
  primary key (consumer, message_id)
);

-- Deliveries that failed and wait for another attempt, with exponential backoff.
create table retries (
  consumer text not null,
  message_id uuid not null,
  envelope jsonb not null,
  attempts integer not null,
  next_attempt_at timestamptz not null,
  last_error text not null,
  primary key (consumer, message_id)
);
create index retries_due on retries (next_attempt_at);

-- Deliveries that failed every attempt; an admin lists and replays them.
create table dead_letters (
  id bigserial primary key,
  consumer text not null,
  message_id uuid not null,
  envelope jsonb not null,
  attempts integer not null,
  last_error text not null,
  failed_at timestamptz not null default now(),
  replayed_at timestamptz
);
create index dead_letters_open on dead_letters (id) where replayed_at is null;
