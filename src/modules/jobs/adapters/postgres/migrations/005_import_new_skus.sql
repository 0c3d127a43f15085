-- The SKUs of an import's batch in flight that had no product before the batch was applied, recorded
-- before any row of it is. Rows applied after the last checkpoint are applied again after a crash and
-- find their product there; these rows say it was this import that created it. Cleared with each
-- checkpoint, so a job has at most one batch of them.
create table import_new_skus (
  job_id text not null references jobs (id) on delete cascade,
  sku text not null,
  primary key (job_id, sku)
);
