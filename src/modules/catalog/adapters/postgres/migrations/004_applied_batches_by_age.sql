-- Retention deletes applied batches oldest first, once their jobs can no longer send them again.
create index applied_batches_by_age on applied_batches (applied_at);
