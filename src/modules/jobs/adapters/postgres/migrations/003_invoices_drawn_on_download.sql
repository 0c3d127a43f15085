-- An invoice is drawn when it is first downloaded, not by a job at confirmation (decision 0014).
-- A confirmed order leaves what its invoice states (`facts`: the order as it was announced
-- confirmed); the first download draws the PDF, stores it under `document_key` and every later
-- download reads that same document. Invoices drawn by the jobs of before keep their `job_id`.
alter table invoices add column facts jsonb;
alter table invoices alter column job_id drop not null;
alter table invoices alter column document_key drop not null;
alter table invoices add constraint invoices_drawn_or_drawable check (document_key is not null or facts is not null);

-- Invoice jobs that never drew their invoice (queued, running, failed or cancelled) hand their
-- order over: it gets an invoice drawn on download, and its job ends, cancelled.
insert into invoices (order_id, customer_id, facts, created_at)
  select subject, input -> 'customer' ->> 'id', input, created_at
  from jobs
  where kind = 'invoice' and subject is not null and input -> 'customer' ->> 'id' is not null
  on conflict (order_id) do nothing;
update jobs
  set status = 'cancelled', last_error = 'superseded: the invoice is drawn when first downloaded',
      finished_at = now(), updated_at = now()
  where kind = 'invoice' and status in ('queued', 'running');
