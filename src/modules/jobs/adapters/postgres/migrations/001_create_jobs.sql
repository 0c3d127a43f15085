-- Job records: what each job is, how far it got, and what it found. pg-boss keeps the queues
-- themselves in its own `pgboss` schema; `boss_job_id` links a record to its queue entry.
create table jobs (
  id text primary key,
  kind text not null check (kind in ('catalog-import', 'invoice')),
  status text not null check (status in ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
  subject text,
  input_key text,
  input jsonb,
  result_key text,
  request_id text,
  boss_job_id text,
  progress_done integer not null default 0 check (progress_done >= 0),
  progress_total integer check (progress_total >= 0),
  -- Data records fully handled; moves only together with the counts and errors of those records.
  checkpoint integer not null default 0 check (checkpoint >= 0),
  created_count integer not null default 0,
  updated_count integer not null default 0,
  rejected_count integer not null default 0,
  attempts integer not null default 0,
  last_error text,
  created_at timestamptz not null,
  updated_at timestamptz not null,
  started_at timestamptz,
  finished_at timestamptz
);

create index jobs_newest_first on jobs (created_at desc, id desc);
-- One invoice job per order, however often its confirmation is delivered.
create unique index jobs_one_invoice_per_order on jobs (subject) where kind = 'invoice';

-- The first rejected rows of an import (at most 1,000 per job), by line.
create table row_errors (
  job_id text not null references jobs (id) on delete cascade,
  line integer not null,
  reason text not null,
  primary key (job_id, line)
);

-- Invoice PDFs by order, with the customer who may read them.
create table invoices (
  order_id text primary key,
  customer_id text not null,
  job_id text not null references jobs (id),
  document_key text not null,
  created_at timestamptz not null
);
