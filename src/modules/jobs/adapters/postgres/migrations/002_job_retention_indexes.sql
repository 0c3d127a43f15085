-- Retention finds finished jobs by when they finished, oldest first.
create index jobs_finished_at on jobs (finished_at) where finished_at is not null;
-- Whether an invoice still names a job (such a job is kept), and the foreign key's own check when
-- a job is deleted, are look-ups by job id rather than scans of every invoice.
create index invoices_job_id on invoices (job_id);
