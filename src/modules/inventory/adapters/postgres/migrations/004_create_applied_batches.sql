-- Batches of stock levels a bulk writer (an import) has set, by the key it names each one with, with
-- what became of each level: a batch sent again (a retried request, an import resuming after a
-- crash) answers these outcomes and writes nothing, so its caller counts every level once.
create table applied_batches (
  key text primary key,
  -- One outcome per level of the batch, in order; null only inside the transaction that applies it.
  outcomes jsonb,
  applied_at timestamptz not null default now()
);
